//! Live recognition per frame: the whole pipeline on every frame (`identify`, what the live loop ran
//! before tracking) against tracking (`track`: detect on schedule, follow with O-Net, embed when needed),
//! on videos made from the shared photos, 1 face and 5 faces. Interleaved, 5 rounds, median per frame.
//! Native, release build, one thread, CPU backend. `cargo bench --bench live`
#[path = "../tests/common/video.rs"]
mod video;

use localface::backend::{block_on, Target};
use localface::face::detect::{DetectOptions, Range};
use localface::face::live::name_faces;
use localface::face::track::{Judge, Tracker, TrackerConfig};
use localface::face::{largest, LandmarkSource, Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::{self, Rgb};
use localface::gallery::{Gallery, Metric, DEFAULT_COSINE_THRESHOLD};
use std::path::PathBuf;
use std::time::Instant;

fn photo(rel: &str) -> Rgb {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    frame::load(&root.join("../shared/data/faces").join(rel)).expect("the shared photos")
}

/// Milliseconds per frame over the whole video, whole pipeline on each frame; and faces per frame.
fn identify_each(p: &Pipeline, frames: &[Rgb], options: &DetectOptions, gallery: &Gallery) -> (f64, f64) {
    let (t, mut found) = (Instant::now(), 0);
    for f in frames {
        for face in block_on(p.faces(f, options, LandmarkSource::Onet)).unwrap() {
            std::hint::black_box(gallery.identify(&face.embedding, Metric::Cosine, DEFAULT_COSINE_THRESHOLD, 1));
            found += 1;
        }
    }
    let n = frames.len() as f64;
    (t.elapsed().as_secs_f64() * 1e3 / n, found as f64 / n)
}

/// Milliseconds per frame over the whole video, tracking from a fresh tracker; and faces per frame.
fn track_each(p: &Pipeline, frames: &[Rgb], options: &DetectOptions, gallery: &Gallery) -> (f64, f64) {
    let judge = Judge { gallery, metric: Metric::Cosine, threshold: DEFAULT_COSINE_THRESHOLD };
    let mut tracker = Tracker::new(TrackerConfig::default());
    let (t, mut found) = (Instant::now(), 0);
    for f in frames {
        let (shots, _) = block_on(p.track(&mut tracker, f, options, LandmarkSource::Onet)).unwrap();
        found += std::hint::black_box(name_faces(&mut tracker, shots, &judge)).len();
    }
    let n = frames.len() as f64;
    (t.elapsed().as_secs_f64() * 1e3 / n, found as f64 / n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let read = |f: &str| std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(f)).unwrap();
    let p = block_on(Pipeline::new(
        &read(SHORT_RANGE),
        Range::Short,
        Some(&read(ONET)),
        &read(MOBILEFACENET),
        &Target::Cpu,
    ))
    .unwrap();
    // The live loop's options: no tiles (the web API's default for video).
    let options = DetectOptions { tiles: false, ..p.detector.default_options() };
    let mut gallery = Gallery::new(p.embedder.dim, &p.embedder.name);
    for (name, file) in [("ada", "emotions-a/a3.jpg"), ("amy", "amy/amy1.png"), ("raj", "raj/raj1.png")] {
        let faces = block_on(p.faces(&photo(file), &p.detector.default_options(), LandmarkSource::Onet)).unwrap();
        gallery.add(name, &largest(faces).unwrap().embedding).unwrap();
    }
    let five =
        ["amy/amy3.png", "howard/howard3.png", "penny/penny3.png", "raj/raj3.png", "sheldon/sheldon3.png"].map(photo);
    let videos = [
        ("1 face, 640x480, pan and zoom", video::pan_and_zoom(&photo("emotions-a/a1.jpg"), 90)),
        ("5 faces, 640x480, drifting", video::five_drifting(&five, 90)),
    ];
    println!("per frame, median of 5 interleaved rounds over 90 frames (CPU, {})", localface::cpu::simd::arch());
    for (name, frames) in &videos {
        let (mut every, mut tracked, mut faces) = (vec![], vec![], (0.0, 0.0));
        for _ in 0..5 {
            let (ms, found) = identify_each(&p, frames, &options, &gallery);
            every.push(ms);
            faces.0 = found;
            let (ms, found) = track_each(&p, frames, &options, &gallery);
            tracked.push(ms);
            faces.1 = found;
        }
        let (e, t) = (median(every), median(tracked));
        println!(
            "{name:<28} identify every frame {e:7.2} ms ({:5.1} fps, {:.1} faces)   track {t:7.2} ms ({:5.1} fps, {:.1} faces)   {:.0}%",
            1e3 / e,
            faces.0,
            1e3 / t,
            faces.1,
            100.0 * t / e
        );
    }
}
