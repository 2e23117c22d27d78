//! Helpers shared by the integration tests: where the models, photos and reference outputs are.
#![allow(dead_code)]

pub mod onnx_build;
pub mod references;
pub mod tflite_writer;

use localface::backend::{block_on, Network, Target};
use localface::face::detect::Range;
use localface::face::{Pipeline, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::model::{Graph, Tensor};
use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files in tests/data, found by fuzzing (fuzz/ image_decode), that make a third-party image decoder panic:
/// zune-jpeg 0.5.15 indexes out of range in its IDCT, and in progressive decoding when the colour space has
/// more components than the frame; a palette of 49 bytes, not a whole number of RGB entries, makes png
/// 0.18.1 slice past its end when it expands the palette; in an animated WebP, image-webp 0.2.4 slices an
/// empty row in its YUV conversion (in the middle rows, and in the top row), and indexes past a frame's
/// alpha data when it is shorter than the frame.
pub const DECODER_PANIC_FILES: [&str; 6] = [
    "zune-jpeg-panic.jpg",
    "zune-jpeg-progressive-panic.jpg",
    "png-palette-panic.png",
    "webp-yuv-panic.webp",
    "webp-yuv-top-row-panic.webp",
    "webp-alpha-panic.webp",
];

pub fn test_data(file: &str) -> PathBuf {
    root().join("tests/data").join(file)
}

/// The models folder; the tests fail (not skip) without it: `scripts/fetch-models.sh` makes it.
pub fn models_dir() -> PathBuf {
    let dir = std::env::var_os("LOCALFACE_MODELS").map_or_else(|| root().join("models"), PathBuf::from);
    assert!(dir.join("MobileFaceNet.tflite").exists(), "no models in {}: run scripts/fetch-models.sh", dir.display());
    dir
}

pub fn model_bytes(file: &str) -> Vec<u8> {
    std::fs::read(models_dir().join(file)).unwrap()
}

pub fn graph(file: &str) -> Graph {
    Graph::from_model_file(&model_bytes(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The default pipeline (short-range BlazeFace, O-Net, MobileFaceNet) on `target`.
pub fn default_pipeline(target: &Target) -> Pipeline {
    let (detector, onet, embedder) = (model_bytes(SHORT_RANGE), model_bytes(ONET), model_bytes(MOBILEFACENET));
    block_on(Pipeline::new(&detector, Range::Short, Some(&onet), &embedder, target)).unwrap()
}

/// The shared photos (read in place, never copied into the project).
pub fn faces_dir() -> PathBuf {
    std::env::var_os("LOCALFACE_FACES").map_or_else(|| root().join("../shared/data/faces"), PathBuf::from)
}

/// Whether the shared photos are here. Where they are absent, the tests that need them skip with a message,
/// as ../shared/data/faces/README.md asks.
pub fn have_faces() -> bool {
    let here = faces_dir().join("amy/amy1.png").exists();
    if !here {
        eprintln!("SKIPPED: no face photos in {} (the shared data folder is absent)", faces_dir().display());
    }
    here
}

/// Reads a raw little-endian f32 file into a tensor of the given shape.
pub fn read_f32(path: &std::path::Path, shape: Vec<usize>) -> Tensor {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let data = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Tensor::new(shape, data).unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// Runs a loaded model at batch 1 on zeros; it may fail, it must not panic. It runs twice: on the scalar
/// reference, and as a loaded model really runs (the CPU backend's rewrites and fast kernels); both must
/// agree on whether it runs. Where it runs, both answers are returned: (reference, CPU backend).
pub fn run_zeros(graph: &Graph) -> localface::Result<(Vec<Tensor>, Vec<Tensor>)> {
    let shape = graph.tensors[graph.inputs[0]].shape.clone();
    let count: usize = shape.iter().product();
    let mut shape = shape;
    if let Some(b) = shape.first_mut() {
        *b = 1;
    }
    let data = vec![0.0; count / graph.tensors[graph.inputs[0]].shape.first().copied().unwrap_or(1).max(1)];
    let input = [Tensor::new(shape, data)?];
    let reference = localface::cpu::run(graph, &input);
    let fast = Network::new(graph.clone(), &Target::Cpu).run_cpu(&input);
    assert_eq!(
        reference.as_ref().map(|_| ()).map_err(|e| e.to_string()),
        fast.as_ref().map(|_| ()).map_err(|e| e.to_string()),
        "the reference and the CPU backend disagree on this model"
    );
    Ok((reference?, fast?))
}
