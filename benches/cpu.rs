//! CPU inference timings: median and p90 of 20 runs after 3 warm-ups, per model, native.
//! Run with `cargo bench --bench cpu` (release build). Prints one line per model.

use localface::backend::{Network, Target};
use localface::face::{align, embed};
use localface::model::{Graph, Tensor};
use std::path::PathBuf;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn graph(file: &str) -> Graph {
    let bytes = std::fs::read(root().join("models").join(file)).expect("models/: run scripts/fetch-models.sh");
    Graph::from_tflite(&bytes).unwrap()
}

/// A real photo scaled to size x size, in the model's input range.
fn input(photo: &str, size: usize, batch: usize, normalize: fn(u8) -> f32) -> Tensor {
    let frame = localface::frame::load(&root().join("../shared/data/faces").join(photo)).expect("shared photos");
    let crop = align::fit(&frame, size);
    let one: Vec<f32> = crop.data.iter().map(|&v| normalize(v)).collect();
    Tensor::new(vec![batch, size, size, 3], one.repeat(batch)).unwrap()
}

/// Median and p90 of 20 runs after 3 warm-ups, on each CPU backend.
fn time(name: &str, graph: &Graph, x: &Tensor, per: usize) {
    for (kernels, target) in [("Reference", Target::Reference), ("Cpu", Target::Cpu)] {
        let net = Network::new(graph.clone(), &target);
        for _ in 0..3 {
            net.run_cpu(std::slice::from_ref(x)).unwrap();
        }
        let mut ms: Vec<f64> = (0..20)
            .map(|_| {
                let t = Instant::now();
                net.run_cpu(std::slice::from_ref(x)).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let (median, p90) = ((ms[9] + ms[10]) / 2.0, ms[17]);
        println!(
            "{name:<36} {kernels:<10} median {median:8.2} ms   p90 {p90:8.2} ms   ({:.2} ms per face)",
            median / per as f64
        );
    }
}

fn main() {
    let detector_input = |v: u8| v as f32 / 127.5 - 1.0;
    println!("CPU, one thread: Reference = scalar kernels, Cpu = SIMD kernels ({})", localface::cpu::simd::arch());
    let mfn = graph("MobileFaceNet.tflite");
    for batch in [1, 2, 8] {
        time(
            &format!("MobileFaceNet 112x112, batch {batch}"),
            &mfn,
            &input("amy/amy1.png", 112, batch, embed::normalize),
            batch,
        );
    }
    time(
        "BlazeFace short range 128x128",
        &graph("face_detection_short_range.tflite"),
        &input("group/bbt1.jpg", 128, 1, detector_input),
        1,
    );
    time(
        "BlazeFace full range 192x192",
        &graph("face_detection_full_range.tflite"),
        &input("group/bbt1.jpg", 192, 1, detector_input),
        1,
    );
    time("O-Net 48x48", &graph("onet.tflite"), &input("amy/amy1.png", 48, 1, embed::normalize), 1);
}
