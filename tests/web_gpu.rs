//! The GPU backend on WebGPU in headless Chromium (`--enable-unsafe-webgpu`; SwiftShader where there is no
//! GPU): `wasm-pack test --headless --chrome --release -- --test web_gpu`. The same kernel cases as the
//! native `tests/gpu.rs`, the models end to end against the CPU on real faces, the `gpu` backend of the
//! JS API, and the fallback to the CPU when the device is lost. They fail, not skip, without an adapter.
#![cfg(target_arch = "wasm32")]

#[path = "common/gpu_cases.rs"]
mod gpu_cases;
#[cfg(shared_faces)]
#[path = "common/web.rs"]
mod web_helpers;

use localface::backend::{race, Kernels, Network, Target};
use localface::gpu::{Fault, Gpu};
use localface::model::{Graph, Tensor};
use localface::web::{remember_choice, remembered_choice};
use std::sync::Arc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHORT_RANGE: &[u8] = include_bytes!("../models/face_detection_short_range.tflite");
const ONET: &[u8] = include_bytes!("../models/onet.tflite");
const MOBILEFACENET: &[u8] = include_bytes!("../models/MobileFaceNet.tflite");

async fn gpu() -> Arc<Gpu> {
    Gpu::new().await.unwrap_or_else(|e| panic!("{e}: run Chromium with --enable-unsafe-webgpu"))
}

#[wasm_bindgen_test]
async fn kernels_match_reference() {
    let gpu = gpu().await;
    let counts = [
        ("conv2d", gpu_cases::conv2d(&gpu).await),
        ("depthwise", gpu_cases::depthwise(&gpu).await),
        ("fully connected", gpu_cases::fully_connected(&gpu).await),
        ("fused", gpu_cases::fused(&gpu).await),
        ("binary", gpu_cases::binary(&gpu).await),
        ("unary", gpu_cases::unary(&gpu).await),
        ("pooling", gpu_cases::pooling(&gpu).await),
        ("data movement", gpu_cases::data_movement(&gpu).await),
    ];
    console_log!("WebGPU ({}): kernel cases that agree with the reference: {counts:?}", gpu.name);
}

/// Deterministic values in [-1, 1), as a normalised frame would be.
fn pixels(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7919) % 255) as f32 / 127.5 - 1.0).collect()
}

#[wasm_bindgen_test]
async fn every_model_matches_the_cpu() {
    let gpu = gpu().await;
    for (bytes, shape) in [(SHORT_RANGE, [2, 128, 128, 3]), (ONET, [3, 48, 48, 3]), (MOBILEFACENET, [2, 112, 112, 3])] {
        let graph = Graph::from_tflite(bytes).unwrap();
        let on_gpu = Network::load(graph.clone(), &Target::Gpu(gpu.clone())).await;
        assert_eq!(on_gpu.kernels(), Kernels::Gpu, "{:?}", on_gpu.fallback());
        let x = Tensor::new(shape.to_vec(), pixels(shape.iter().product())).unwrap();
        let got = on_gpu.run(std::slice::from_ref(&x)).await.unwrap();
        assert_eq!(on_gpu.fallback(), None);
        let want = Network::new(graph, &Target::Cpu).run_cpu(&[x]).unwrap();
        gpu_cases::assert_close(&format!("model input {shape:?}"), &got, &want);
    }
}

/// `auto`'s timing on WebGPU (here SwiftShader, which `auto` itself does not time: an emulated GPU is
/// slower than the CPU kernels, so the race is called directly, on O-Net, which is small), and the page
/// storage that keeps a choice per browser, adapter and embedder.
#[wasm_bindgen_test]
async fn auto_times_webgpu_against_the_cpu_and_remembers_the_choice() {
    let gpu = gpu().await;
    let raced = race(&Graph::from_tflite(ONET).unwrap(), &gpu).await;
    console_log!("auto's timing on {}: {raced:?}", gpu.name);
    let (gpu_ms, cpu_ms) = (raced.gpu_ms.expect("timed"), raced.cpu_ms.expect("timed"));
    assert!(gpu_ms > 0.0 && cpu_ms > 0.0);
    assert_eq!(raced.gpu, gpu_ms < cpu_ms, "{raced:?}");
    let key = format!("test {}", js_sys::Math::random());
    assert_eq!(remembered_choice(&key).await, None);
    remember_choice(&key, &raced).await;
    assert_eq!(remembered_choice(&key).await, Some(raced));
    assert_eq!(remembered_choice(&format!("{key} on another adapter")).await, None);
}

/// Out of memory in the middle of a stream, and a kernel the device cannot build at load: each leaves the
/// network on the CPU, with the CPU's answers and the reason.
#[wasm_bindgen_test]
async fn out_of_memory_and_pipeline_failures_fall_back_to_the_cpu() {
    let gpu = gpu().await;
    let graph = Graph::from_tflite(ONET).unwrap();
    let on_cpu = Network::new(graph.clone(), &Target::Cpu);
    let on_gpu = Network::load(graph.clone(), &Target::Gpu(gpu.clone())).await;
    for k in 0..4 {
        if k == 2 {
            gpu.inject(Fault::OutOfMemory);
        }
        let x = Tensor::new(
            vec![2, 48, 48, 3],
            pixels(2 * 48 * 48 * 3).iter().map(|v| v * (k as f32 + 1.0) / 4.0).collect(),
        )
        .unwrap();
        let got = on_gpu.run(std::slice::from_ref(&x)).await.unwrap();
        assert_eq!(on_gpu.kernels(), if k < 2 { Kernels::Gpu } else { Kernels::Cpu }, "run {k}");
        gpu_cases::assert_close(&format!("run {k}"), &got, &on_cpu.run_cpu(&[x]).unwrap());
    }
    assert!(on_gpu.fallback().unwrap().contains("out of memory"));
    gpu.inject(Fault::PipelineCreation);
    let broken = Network::load(graph, &Target::Gpu(gpu.clone())).await;
    assert_eq!(broken.kernels(), Kernels::Cpu);
    assert!(broken.fallback().is_some());
}

#[cfg(shared_faces)]
mod photos {
    use super::*;
    use crate::web_helpers::{get, image_data};
    use localface::face::detect::{DetectOptions, Range};
    use localface::face::{LandmarkSource, Pipeline};
    use localface::web::Recognizer;
    use wasm_bindgen::JsValue;

    const PHOTOS: [&[u8]; 3] = [
        include_bytes!("../../shared/data/faces/emotions-a/a1.jpg"),
        include_bytes!("../../shared/data/faces/group/bbt4.jpg"),
        include_bytes!("../../shared/data/faces/emotions-b/b2.jpg"),
    ];

    async fn pipeline(target: &Target) -> Pipeline {
        Pipeline::new(SHORT_RANGE, Range::Short, Some(ONET), MOBILEFACENET, target).await.unwrap()
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Real photos: the same faces and embeddings (cosine >= 0.9999) on the GPU as on the CPU; then the
    /// device is lost mid-stream and the CPU answers the rest, the same.
    #[wasm_bindgen_test]
    async fn the_pipeline_matches_the_cpu_on_real_faces_and_survives_device_loss() {
        let gpu = gpu().await;
        let (on_gpu, on_cpu) = (pipeline(&Target::Gpu(gpu.clone())).await, pipeline(&Target::Cpu).await);
        assert_eq!(on_gpu.kernels(), Kernels::Gpu);
        let options = DetectOptions { tiles: false, ..on_cpu.detector.default_options() };
        let mut worst = 1.0f32;
        for (k, photo) in PHOTOS.iter().enumerate() {
            if k == 2 {
                gpu.simulate_loss();
            }
            let frame = localface::frame::decode(photo).unwrap();
            let got = on_gpu.faces(&frame, &options, LandmarkSource::Onet).await.unwrap();
            let want = on_cpu.faces(&frame, &options, LandmarkSource::Onet).await.unwrap();
            assert_eq!(got.len(), want.len(), "photo {k}: faces");
            assert!(!got.is_empty());
            for (g, w) in got.iter().zip(&want) {
                let c = cosine(&g.embedding, &w.embedding);
                assert!(c >= 0.9999, "photo {k}: cosine {c}");
                worst = worst.min(c);
            }
        }
        assert_eq!(on_gpu.kernels(), Kernels::Cpu);
        assert!(on_gpu.fallback().unwrap().contains("lost"));
        console_log!("WebGPU pipeline vs CPU on real photos: worst embedding cosine {worst:.7}");
    }

    /// The JS API with `backend: 'gpu'`: it runs on WebGPU and recognises as the CPU does.
    #[wasm_bindgen_test]
    async fn the_recognizer_runs_on_webgpu() {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"backend".into(), &"gpu".into()).unwrap();
        js_sys::Reflect::set(&options, &"gallery".into(), &JsValue::NULL).unwrap();
        let r = Recognizer::from_models(SHORT_RANGE.to_vec(), ONET.to_vec(), MOBILEFACENET.to_vec(), options.into())
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.backend(), "gpu", "{:?}", r.fallback_reason());
        r.enroll("Ada".into(), image_data(PHOTOS[0])).await.unwrap();
        let faces = js_sys::Array::from(&r.identify(image_data(PHOTOS[2])).await.unwrap());
        let stranger = faces.get(0);
        assert!(get(&stranger, "name").is_null(), "a stranger is no one");
        let verdict = r.verify(image_data(PHOTOS[0]), image_data(PHOTOS[0])).await.unwrap();
        assert!(get(&verdict, "similarity").as_f64().unwrap() > 0.999);
        assert_eq!(get(&verdict, "same").as_bool(), Some(true));
        assert_eq!(r.backend(), "gpu", "{:?}", r.fallback_reason());
    }
}
