//! One timed round of a model on the native SIMD kernels, one thread, for `scripts/bench-native.sh`:
//! `cargo run --release --example time_model MODEL.tflite RUNS` prints {"median_ms", "kernels"}: the median of RUNS runs after 3
//! warm-ups, on an input of the model's own shape (its batch as stored) with values in -1..1.

use localface::backend::{Network, Target};
use localface::model::{Graph, Tensor};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, runs) = (&args[1], args[2].parse::<usize>().expect("RUNS: a whole number"));
    let graph = Graph::from_tflite(&std::fs::read(path).expect("the model file")).expect("a model localface reads");
    let shape = graph.tensors[graph.inputs[0]].shape.clone();
    // A fixed pseudo-random input: the same every round, and no denormals.
    let values = (0..shape.iter().product::<usize>()).map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0).collect();
    let input = Tensor::new(shape, values).expect("the input");
    let net = Network::new(graph, &Target::Cpu);
    for _ in 0..3 {
        net.run_cpu(std::slice::from_ref(&input)).expect("a run");
    }
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            net.run_cpu(std::slice::from_ref(&input)).expect("a run");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!("{{\"median_ms\": {:.3}, \"kernels\": \"{}\"}}", ms[runs / 2], localface::cpu::simd::arch());
}
