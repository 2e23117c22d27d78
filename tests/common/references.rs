//! The reference cases `scripts/make-references.py` wrote: inputs made from the shared photos, and the
//! outputs `ai-edge-litert` gave for them (reference kernels and default path), or onnxruntime (both).

use super::{have_faces, read_f32, root};
use localface::model::Tensor;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    model: String,
    name: String,
    inputs: Vec<Array>,
    /// From TFLite's reference kernels.
    outputs: Vec<Array>,
    /// From the interpreter's default path (XNNPACK).
    outputs_default: Vec<Array>,
}

#[derive(Deserialize)]
struct Array {
    file: String,
    shape: Vec<usize>,
}

/// Where `scripts/make-references.sh` wrote them.
pub fn references_dir() -> PathBuf {
    std::env::var_os("LOCALFACE_REFERENCES").map_or_else(|| root().join("target/references"), PathBuf::from)
}

/// A reference case: its name, inputs, the reference kernels' outputs and the default path's outputs.
pub struct Loaded {
    pub name: String,
    pub inputs: Vec<Tensor>,
    pub reference: Vec<Tensor>,
    pub default: Vec<Tensor>,
}

/// The reference cases of a model; None (skip) where the shared photos they are made from are absent.
pub fn cases(model: &str) -> Option<Vec<Loaded>> {
    if !have_faces() {
        return None;
    }
    let dir = references_dir();
    let manifest = std::fs::read(dir.join("manifest.json"))
        .unwrap_or_else(|e| panic!("no references in {} ({e}): run scripts/make-references.sh", dir.display()));
    let manifest: Manifest = serde_json::from_slice(&manifest).unwrap();
    let load =
        |arrays: &[Array]| arrays.iter().map(|a| read_f32(&dir.join(&a.file), a.shape.clone())).collect::<Vec<_>>();
    let found: Vec<_> = manifest
        .cases
        .into_iter()
        .filter(|c| c.model == model)
        .map(|c| Loaded {
            inputs: load(&c.inputs),
            reference: load(&c.outputs),
            default: load(&c.outputs_default),
            name: c.name,
        })
        .collect();
    assert!(!found.is_empty(), "no reference cases for {model}");
    Some(found)
}
