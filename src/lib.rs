//! localface: on-device face recognition.
//!
//! The data flows one way through the folders: `frame` decodes images into RGB frames; `model` is the graph
//! and the `.tflite` reader; a backend runs it (`cpu`: scalar reference and SIMD kernels; `gpu`: WGSL compute
//! shaders through wgpu), chosen in `backend`; `face` turns frames into aligned faces and embeddings with
//! it; `gallery` matches them and keeps them on disk; `web` is the browser API (wasm32 only). `error` gives
//! every failure a kind and its context; `profile` says where an inference spends its time.

pub mod backend;
pub mod cpu;
mod error;
pub mod face;
pub mod frame;
pub mod gallery;
pub mod gpu;
pub mod model;
pub mod profile;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Context, Error, ErrorKind, Result};
