//! Fuzzes the .tflite reader: any bytes must give a graph or an error, never a panic or a huge allocation;
//! a graph that loads is run once at batch 1 (shape inference and the kernels must hold too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use localface::model::{Graph, Tensor};

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = Graph::from_tflite(data) else { return };
    let mut shape = graph.tensors[graph.inputs[0]].shape.clone();
    if let Some(b) = shape.first_mut() {
        *b = 1;
    }
    let count: usize = shape.iter().product();
    // Small inputs only: the fuzzer looks for crashes, not for slow convolutions.
    if count <= 1 << 16 {
        if let Ok(t) = Tensor::new(shape, vec![0.5; count]) {
            let _ = localface::cpu::run(&graph, &[t]);
        }
    }
});
