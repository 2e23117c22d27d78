//! `TfliteModel`: any .tflite (or .onnx) model this crate can read, run directly on float32 NHWC tensors.

use super::panic::forced_panic_point;
use super::{error, js_error};
use crate::backend::{Backend, Network, Target};
use crate::error::ErrorKind;
use wasm_bindgen::prelude::*;

/// Any .tflite model this crate can read (or .onnx: its 4-D inputs and outputs NHWC too), run directly on
/// float32 NHWC input: for benchmarks, and for apps that bring their own models.
#[wasm_bindgen]
pub struct TfliteModel {
    net: Network,
}

#[wasm_bindgen]
impl TfliteModel {
    /// A model on the CPU. `kernels`: "simd" (default) or "reference" (the scalar kernels).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], kernels: Option<String>) -> Result<TfliteModel, JsValue> {
        forced_panic_point("TfliteModel.new");
        let target = match kernels.as_deref().unwrap_or("simd") {
            "simd" => Target::Cpu,
            "reference" => Target::Reference,
            other => return Err(js_error(crate::error::unknown_choice("kernels", other, &["simd", "reference"]))),
        };
        let graph = crate::model::Graph::from_model_file(bytes).map_err(js_error)?;
        Ok(TfliteModel { net: Network::new(graph, &target) })
    }

    /// A model on the GPU (WebGPU): an error where there is none.
    #[wasm_bindgen(js_name = onGpu)]
    pub async fn on_gpu(bytes: Vec<u8>) -> Result<TfliteModel, JsValue> {
        forced_panic_point("TfliteModel.onGpu");
        let graph = crate::model::Graph::from_model_file(&bytes).map_err(js_error)?;
        let (target, _) = Target::resolve(Backend::Gpu, || Ok(graph.clone())).await.map_err(js_error)?;
        let net = Network::load(graph, &target).await;
        match net.fallback() {
            Some(reason) => Err(error(ErrorKind::Gpu, format!("the model cannot run on the GPU: {reason}"))),
            None => Ok(TfliteModel { net }),
        }
    }

    /// Where runs go: "gpu", "cpu" or "reference".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        forced_panic_point("TfliteModel.backend");
        self.net.kernels().name().to_string()
    }

    /// The CPU kernels' instruction set, e.g. "wasm simd128 + relaxed-simd" (as `Recognizer.kernels`).
    #[wasm_bindgen(getter)]
    pub fn kernels(&self) -> String {
        forced_panic_point("TfliteModel.kernels");
        crate::cpu::simd::arch().to_string()
    }

    /// Milliseconds per op type, averaged over `runs` runs on one input of `shape`.
    pub fn profile(&self, input: Vec<f32>, shape: Vec<u32>, runs: u32) -> Result<JsValue, JsValue> {
        forced_panic_point("TfliteModel.profile");
        let tensor = crate::model::Tensor::new(shape.iter().map(|&d| d as usize).collect(), input).map_err(js_error)?;
        let mut steps = Vec::new();
        for _ in 0..runs.max(1) {
            self.net.profile_cpu(std::slice::from_ref(&tensor), &mut steps).map_err(js_error)?;
        }
        let mut per_op: Vec<(&str, f64)> = Vec::new();
        for (name, ms) in steps {
            match per_op.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 += ms,
                None => per_op.push((name, ms)),
            }
        }
        let out = js_sys::Object::new();
        for (name, ms) in per_op {
            js_sys::Reflect::set(&out, &name.into(), &(ms / runs.max(1) as f64).into())?;
        }
        Ok(out.into())
    }

    /// Runs the model on one input of `shape` (any batch); returns each output's values.
    pub async fn run(&self, input: Vec<f32>, shape: Vec<u32>) -> Result<js_sys::Array, JsValue> {
        forced_panic_point("TfliteModel.run");
        let tensor = crate::model::Tensor::new(shape.iter().map(|&d| d as usize).collect(), input).map_err(js_error)?;
        let outputs = self.net.run(&[tensor]).await.map_err(js_error)?;
        Ok(outputs.iter().map(|t| js_sys::Float32Array::from(&t.data[..])).collect())
    }
}
