//! Fuzzes the .onnx reader as `tflite_reader` does the .tflite one: any bytes must give a graph or an error,
//! never a panic or a huge allocation, and a graph that loads must run.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::Limited = common::Limited;

fuzz_target!(|data: &[u8]| {
    // The decoded messages, the float data and its NHWC copy: a few times the file.
    common::load_and_run(data, 8, localface::model::Graph::from_onnx);
});
