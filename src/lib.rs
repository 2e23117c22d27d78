//! localface: on-device face recognition.
//!
//! The data flows one way through the folders: `model` (the graph and the `.tflite` reader) is run by a
//! backend (`cpu`, chosen in `backend`), `face` turns frames into embeddings with it, `gallery` matches them.

pub mod backend;
pub mod cpu;
mod error;
pub mod face;
pub mod frame;
pub mod gallery;
pub mod gpu;
pub mod model;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Context, Error, ErrorKind, Result};
