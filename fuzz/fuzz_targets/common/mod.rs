//! What the model-reader fuzz targets share: a limit on single allocations, and the run of a graph that
//! loaded (on the scalar reference and as the API runs it).

use localface::backend::{Network, Target};
use localface::model::{shape, Graph, Tensor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The largest single allocation allowed now. `-s none` builds have no malloc hooks, so libFuzzer's
/// -malloc_limit_mb is blind, and a huge zeroed allocation never shows in RSS: this makes it a crash.
pub static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The global allocator of a fuzz target, checking `LIMIT`.
pub struct Limited;

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

/// Reads `data` with `read` under an allocation limit of `per_byte` times its size plus 1 MiB, then, as the
/// API loads a model, prepares the CPU backend and runs a cheap loaded model once at batch 1 on both
/// backends: shape inference and the kernels must hold too.
pub fn load_and_run(data: &[u8], per_byte: usize, read: fn(&[u8]) -> localface::Result<Graph>) {
    LIMIT.store(per_byte * data.len() + (1 << 20), Relaxed);
    let graph = read(data);
    LIMIT.store(usize::MAX, Relaxed);
    let Ok(graph) = graph else { return };
    // The CPU backend's packed weights a few times the file.
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
}
