//! Fuzzes the .tflite reader: any bytes must give a graph or an error, never a panic or a huge allocation;
//! a graph that loads is run once at batch 1, on the scalar reference and as the API runs it (the CPU
//! backend's rewrites and fast kernels): shape inference and the kernels must hold too.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::Limited = common::Limited;

fuzz_target!(|data: &[u8]| {
    // Loading may allocate what tests/hostile.rs allows: twice the file, plus 1 MiB.
    common::load_and_run(data, 2, localface::model::Graph::from_tflite);
});
