//! Fuzzes the .tflite reader: any bytes must give a graph or an error, never a panic or a huge allocation;
//! a graph that loads is run once at batch 1, on the scalar reference and as the API runs it (the CPU
//! backend's rewrites and fast kernels): shape inference and the kernels must hold too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use localface::backend::{Network, Target};
use localface::model::{shape, Graph, Tensor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The largest single allocation allowed now. `-s none` builds have no malloc hooks, so libFuzzer's
/// -malloc_limit_mb is blind, and a huge zeroed allocation never shows in RSS: this makes it a crash.
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

struct Limited;

fn check(size: usize) {
    let limit = LIMIT.load(Relaxed);
    if size > limit {
        LIMIT.store(usize::MAX, Relaxed);
        eprintln!("an allocation of {size} bytes, over the limit of {limit}");
        std::process::abort();
    }
}

unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Limited = Limited;

fuzz_target!(|data: &[u8]| {
    // Loading may allocate what tests/hostile.rs allows (twice the file, plus 1 MiB); the CPU backend's
    // packed weights a few times the file.
    LIMIT.store(2 * data.len() + (1 << 20), Relaxed);
    let graph = Graph::from_tflite(data);
    LIMIT.store(usize::MAX, Relaxed);
    let Ok(graph) = graph else { return };
    // Loaded as the API loads a model: the CPU backend rewrites its copy and prepares the fast kernels.
    LIMIT.store(16 * data.len() + (1 << 20), Relaxed);
    let network = Network::new(graph.clone(), &Target::Cpu);
    LIMIT.store(usize::MAX, Relaxed);
    let mut shape = graph.tensors[graph.inputs[0]].shape.clone();
    if let Some(b) = shape.first_mut() {
        *b = 1;
    }
    let count: usize = shape.iter().product();
    // Cheap models only (a loaded model may take up to 2^32 steps): the fuzzer looks for crashes, not
    // for slow convolutions.
    if shape::cost_per_image(&graph).is_ok_and(|cost| cost.steps <= 1 << 24) {
        if let Ok(t) = Tensor::new(shape, vec![0.5; count]) {
            let inputs = [t];
            let _ = localface::cpu::run(&graph, &inputs);
            let _ = network.run_cpu(&inputs);
        }
    }
});
