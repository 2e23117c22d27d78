//! Time per pipeline stage on a 1280x720 photo with 1 face and with 10 faces, and 1:N search in a gallery
//! of 100,000 embeddings. Native, release build, one thread, CPU backend. `cargo bench --bench pipeline`

use localface::backend::{block_on, Target};
use localface::face::align::{warp, Affine, Edge};
use localface::face::detect::{DetectOptions, Range};
use localface::face::{aligned_crop, LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::{self, Rgb};
use localface::gallery::{Gallery, Metric};
use std::path::PathBuf;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn photo(rel: &str) -> Rgb {
    frame::load(&root().join("../shared/data/faces").join(rel)).expect("the shared photos")
}

/// Median milliseconds of `runs` calls.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[runs / 2]
}

/// vlado0 cropped to 16:9 around its face and scaled to 1280x720.
fn one_face() -> Rgb {
    let src = photo("vlado/vlado0.jpg");
    let (w, h) = (src.width as f32, src.width as f32 * 9.0 / 16.0);
    let s = w / 1280.0;
    warp(&src, Affine([s, 0.0, 0.0, 0.0, s, (src.height as f32 - h) / 2.0]), 1280, 720, Edge::Clamp)
}

/// Ten of the shared face crops, 200 px each, in a 5 x 2 grid on a grey 1280x720 frame.
fn ten_faces() -> Rgb {
    let mut canvas = Rgb::new(1280, 720, vec![120; 1280 * 720 * 3]).unwrap();
    let people = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart", "amy", "raj"];
    for (k, p) in people.iter().enumerate() {
        let crop = photo(&format!("{p}/{p}{}.png", 1 + k / 8 * 2));
        let face = warp(&crop, Affine::scale(crop.width, crop.height, 200), 200, 200, Edge::Clamp);
        let (x0, y0) = (40 + (k % 5) * 245, 100 + (k / 5) * 300);
        for y in 0..200 {
            let dst = ((y0 + y) * 1280 + x0) * 3;
            canvas.data[dst..dst + 600].copy_from_slice(&face.data[y * 600..(y + 1) * 600]);
        }
    }
    canvas
}

fn jpeg(frame: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&frame.data, frame.width as u32, frame.height as u32, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A gallery of `n` random unit embeddings under 1,000 names.
fn big_gallery(n: usize, dim: usize) -> Gallery {
    let mut g = Gallery::new(dim, "MobileFaceNet");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut e = vec![0.0f32; dim];
    for i in 0..n {
        for v in e.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *v = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        }
        localface::face::embed::l2_normalize(&mut e);
        g.add(&format!("person {}", i % 1000), &e).unwrap();
    }
    g
}

fn main() {
    let read = |f: &str| std::fs::read(root().join("models").join(f)).expect("models/: run scripts/fetch-models.sh");
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &read(MOBILEFACENET),
        &Target::Cpu,
    ))
    .unwrap();
    let opts = p.detector.default_options();
    let gallery = big_gallery(100_000, p.embedder.dim);
    println!("native release build, one thread, CPU backend, SIMD kernels ({})", localface::cpu::simd::arch());
    for (what, frame) in [("1 face", one_face()), ("10 faces", ten_faces())] {
        let bytes = jpeg(&frame);
        let decode = median_ms(10, || drop(frame::decode(&bytes).unwrap()));
        let runs = 5;
        let mut detections = vec![];
        let detect = median_ms(runs, || detections = block_on(p.detector.detect(&frame, &opts)).unwrap());
        let mut landmarks = vec![];
        let onet =
            median_ms(runs, || landmarks = block_on(p.detect(&frame, &opts, LandmarkSource::Onet)).unwrap().1) - detect;
        let mut crops = vec![];
        let align = median_ms(runs, || crops = landmarks.iter().map(|l| aligned_crop(&frame, l).unwrap()).collect());
        let mut embeddings = vec![];
        let embed = median_ms(runs, || embeddings = block_on(p.embedder.embed(&crops)).unwrap());
        let search = median_ms(runs, || {
            for e in &embeddings {
                std::hint::black_box(gallery.search(e, 5, Metric::Cosine));
            }
        });
        let total = decode + detect + onet + align + embed + search;
        println!(
            "1280x720, {what} ({} found): decode {decode:.1} ms, detect {detect:.1} ms, landmarks {onet:.1} ms, \
             align {align:.2} ms, embed {embed:.1} ms, match (100,000 embeddings) {search:.1} ms; total {total:.0} ms",
            crops.len()
        );
        let whole = DetectOptions { tiles: false, ..opts };
        let mut found = 0;
        let detect_whole = median_ms(runs, || found = block_on(p.detector.detect(&frame, &whole)).unwrap().len());
        println!("    detect on the whole frame only (--no-tiles): {detect_whole:.1} ms, {found} found");
    }
    let query = gallery_query(&gallery);
    let one = median_ms(50, || drop(std::hint::black_box(gallery.search(&query, 5, Metric::Cosine))));
    println!(
        "top-5 search among {} embeddings of {} people: {one:.2} ms per query",
        gallery.len(),
        gallery.names().len()
    );
}

fn gallery_query(g: &Gallery) -> Vec<f32> {
    let mut q: Vec<f32> = (0..g.dim()).map(|i| (i as f32).sin()).collect();
    localface::face::embed::l2_normalize(&mut q);
    q
}
