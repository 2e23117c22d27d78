//! Writes the model of every op the ONNX reader takes (`tests/common/onnx_build.rs`) to PATH, for
//! `scripts/make-references.sh` to run in onnxruntime: built, not committed, so it is always what the tests
//! build.
//!   cargo run --release --example onnx_ops_model -- PATH
#[path = "../tests/common/onnx_build.rs"]
mod onnx_build;

fn main() {
    let path = std::env::args().nth(1).expect("usage: onnx_ops_model PATH");
    std::fs::write(&path, onnx_build::ops_model()).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
}
