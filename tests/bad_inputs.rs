//! The bad inputs of README's table that other tests do not already cover: frames, float inputs and
//! gallery files. Each gets a clear error (or, where the input is merely unusual, a correct answer), never
//! a panic. Hostile model files are in `hostile.rs`, bad image files in `pipeline.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use localface::backend::{block_on, Network, Target};
use localface::face::{LandmarkSource, ONET};
use localface::frame::Rgb;
use localface::gallery::{Gallery, Metric};
use localface::model::Tensor;
use std::time::Instant;

fn error(result: localface::Result<impl std::fmt::Debug>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn frames_of_bad_sizes() {
    assert!(error(Rgb::new(0, 0, vec![])).contains("empty frame (0x0)"));
    assert!(error(Rgb::new(0, 5, vec![])).contains("empty frame"));
    // 16384 x 16384 is 256 Mi pixels: refused from the size alone, before any pixel is looked at.
    assert!(error(Rgb::new(16384, 16384, vec![])).contains("too large"));
    assert!(error(Rgb::new(16385, 1, vec![0; 16385 * 3])).contains("too large"));
    // ImageData-like bytes that do not fill the stated size, or overflow it.
    assert!(error(Rgb::new(4, 4, vec![0; 47])).contains("47 bytes for a 4x4 RGB frame"));
    assert!(error(Rgb::new(4, 4, vec![0; 64])).contains("64 bytes for a 4x4 RGB frame"));
    // 1x1 and 2x1000 frames are fine: no face, no error.
    let p = default_pipeline(&Target::Cpu);
    for (w, h) in [(1, 1), (2, 1000), (1000, 2)] {
        let frame = Rgb::new(w, h, vec![90; w * h * 3]).unwrap();
        let faces = block_on(p.faces(&frame, &p.detector.default_options(), LandmarkSource::Onet)).unwrap();
        assert!(faces.is_empty(), "{w}x{h}");
    }
}

#[test]
fn every_image_in_the_fuzz_corpus_gives_a_frame_or_an_error() {
    // The image_decode fuzzer's minimised corpus, replayed: malformed JPEG, PNG and WebP files reaching deep
    // into the decoders. Each gives a frame of the size it claims or an error; a panic fails the test.
    let (mut frames, mut errors, mut slowest) = (0, 0, 0.0f64);
    for entry in std::fs::read_dir(root().join("fuzz/corpus/image_decode")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let start = Instant::now();
        match localface::frame::decode(&bytes) {
            Ok(frame) => {
                assert_eq!(frame.data.len(), frame.width * frame.height * 3);
                frames += 1;
            }
            Err(_) => errors += 1,
        }
        slowest = slowest.max(start.elapsed().as_secs_f64());
    }
    assert!(frames > 0 && errors > 0, "{frames} frames, {errors} errors: is the corpus there?");
    println!("image corpus: {frames} files decoded, {errors} refused; slowest {:.0} ms", slowest * 1e3);
}

#[test]
fn files_that_make_a_decoder_panic_are_errors() {
    // Each reaches its decoder's panic (see `DECODER_PANIC_FILES`), and `decode` makes it an error.
    for name in DECODER_PANIC_FILES {
        let e = localface::frame::decode(&std::fs::read(test_data(name)).unwrap()).unwrap_err().to_string();
        assert!(e.contains("cannot decode image: the decoder failed on malformed data"), "{name}: {e}");
    }
}

#[test]
fn nan_and_infinite_inputs_are_refused() {
    let net = Network::new(graph(ONET), &Target::Cpu);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = vec![0.5; 48 * 48 * 3];
        x[1000] = bad;
        let t = Tensor::new(vec![1, 48, 48, 3], x).unwrap();
        assert!(error(block_on(net.run(std::slice::from_ref(&t)))).contains("NaN or infinite value (at 1000)"));
        assert!(error(net.run_cpu(&[t])).contains("NaN or infinite"));
    }
    // The shape must match the data, and the model's input.
    assert!(error(Tensor::new(vec![1, 48, 48, 3], vec![0.0; 10])).contains("10 values"));
    let t = Tensor::new(vec![1, 47, 48, 3], vec![0.0; 47 * 48 * 3]).unwrap();
    assert!(error(net.run_cpu(&[t])).contains("the model takes"));
}

/// A gallery file with its checksum recomputed after an edit, so that only the edit is wrong.
fn resealed(mut bytes: Vec<u8>, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    bytes.truncate(bytes.len() - 4);
    edit(&mut bytes);
    let crc = localface::gallery::crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

fn unit(seed: usize, dim: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dim).map(|i| ((i * 31 + seed * 17) % 97) as f32 - 48.0).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[test]
fn bad_gallery_files() {
    let mut g = Gallery::new(8, "MobileFaceNet");
    g.add("ada", &unit(1, 8)).unwrap();
    g.add("bea", &unit(2, 8)).unwrap();
    let bytes = g.to_bytes();
    let load = |b: &[u8]| error(Gallery::from_bytes(b));
    assert!(load(&bytes[..bytes.len() - 1]).contains("checksum"), "truncated");
    assert!(load(&bytes[..10]).contains("too short"));
    let mut flipped = bytes.clone();
    flipped[40] ^= 4;
    assert!(load(&flipped).contains("checksum mismatch"));
    let future = resealed(bytes.clone(), |b| b[8..12].copy_from_slice(&4u32.to_le_bytes()));
    assert!(load(&future).contains("version 4, this build reads versions 1 to 3"));
    // Both names spelled "ada": the file is refused rather than merged.
    let twice = resealed(bytes.clone(), |b| {
        let at = b.windows(3).position(|w| w == b"bea").unwrap();
        b[at..at + 3].copy_from_slice(b"ada");
    });
    assert!(load(&twice).contains("'ada' is listed twice"));
    assert!(load(b"LFGALLRY but nothing else is right here").contains("version"));
}

#[test]
fn a_gallery_of_100000_people_saves_loads_and_searches() {
    let dim = 192;
    let mut g = Gallery::new(dim, "MobileFaceNet");
    for p in 0..100_000 {
        g.add(&format!("person {p}"), &unit(p, dim)).unwrap();
    }
    let path = std::env::temp_dir().join(format!("localface-100k-{}.lfg", std::process::id()));
    let t = Instant::now();
    g.save(&path, None).unwrap();
    let saved = t.elapsed();
    let t = Instant::now();
    let loaded = Gallery::load(&path, None).unwrap();
    let load_time = t.elapsed();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.names().len(), 100_000);
    let t = Instant::now();
    let best = loaded.search(&unit(4242, dim), 1, Metric::Cosine);
    let search = t.elapsed();
    assert!(best[0].score > 0.999, "{:?}", best[0].score);
    println!(
        "100,000 people: file {:.1} MB, save {saved:.2?}, load {load_time:.2?}, one search {search:.2?}",
        (100_000 * (8 + 4 * dim)) as f64 / 1e6
    );
}
