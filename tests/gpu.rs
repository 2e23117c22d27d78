//! The GPU backend natively (Vulkan; lavapipe in CI): every kernel against the scalar reference, every
//! default model and ONNX model against the CPU backend on real faces, batches, selection and the fallback to the CPU.
//! These tests fail, not skip, when no GPU adapter is found: install `mesa-vulkan-drivers`.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/gpu_cases.rs"]
mod gpu_cases;

use common::references::cases;
use common::*;
use localface::backend::{block_on, race, Backend, Choice, Kernels, Network, Profile, Target};
use localface::face::detect::DetectOptions;
use localface::face::embed::l2_normalize;
use localface::face::{LandmarkSource, Pipeline, FULL_RANGE, MOBILEFACENET, SHORT_RANGE};
use localface::gpu::{Fault, Fusion, Gpu};
use localface::model::Tensor;
use std::sync::Arc;

fn gpu() -> Arc<Gpu> {
    block_on(Gpu::new())
        .unwrap_or_else(|e| panic!("{e}: these tests need a GPU (lavapipe: apt install mesa-vulkan-drivers)"))
}

#[test]
fn conv2d_matches_reference() {
    println!("conv2d: {} cases agree", block_on(gpu_cases::conv2d(&gpu())));
}

#[test]
fn depthwise_matches_reference() {
    println!("depthwise: {} cases agree", block_on(gpu_cases::depthwise(&gpu())));
}

#[test]
fn fully_connected_matches_reference() {
    println!("fully connected: {} cases agree", block_on(gpu_cases::fully_connected(&gpu())));
}

#[test]
fn fused_kernels_match_reference_in_one_dispatch() {
    println!("fused depthwise, 1x1 and ADD: {} cases agree", block_on(gpu_cases::fused(&gpu())));
}

/// The dispatches of one inference with the given fusions, and the ops of the graph.
fn dispatches_and_ops(file: &str, gpu: &Arc<Gpu>, fusion: Fusion) -> (usize, usize) {
    let graph = graph(file);
    let ops = graph.nodes.len();
    let net = block_on(Network::load_with(graph, &Target::Gpu(gpu.clone()), fusion));
    let inputs = localface::profile::inputs(&net, 1).unwrap();
    let Profile::Gpu(profile) = block_on(net.profile(&inputs)).unwrap() else { panic!("{file}: not on the GPU") };
    assert_eq!(profile.submits, 1, "{file}");
    (profile.dispatches.len(), ops)
}

#[test]
fn models_take_fewer_dispatches_than_ops() {
    let gpu = gpu();
    for file in [MOBILEFACENET, SHORT_RANGE, FULL_RANGE] {
        let counts = [Fusion::None, Fusion::Add, Fusion::All].map(|f| dispatches_and_ops(file, &gpu, f).0);
        let ops = graph(file).nodes.len();
        println!("{file}: {ops} ops; dispatches without fusion, with the ADDs fused, with all: {counts:?}");
        assert!(counts[0] < ops && counts[1] < counts[0] && counts[2] < counts[1], "{file}: {counts:?}");
        if file == MOBILEFACENET {
            assert!(counts[2] <= 40, "MobileFaceNet: {} dispatches with every fusion", counts[2]);
        }
    }
}

#[test]
fn binary_ops_match_reference() {
    println!("binary ops: {} cases agree", block_on(gpu_cases::binary(&gpu())));
}

#[test]
fn unary_ops_match_reference() {
    println!("unary ops: {} cases agree", block_on(gpu_cases::unary(&gpu())));
}

#[test]
fn pooling_matches_reference() {
    println!("pooling: {} cases agree", block_on(gpu_cases::pooling(&gpu())));
}

#[test]
fn data_movement_matches_reference() {
    println!(
        "pad, slice, transpose, resize, concat, reduce, reshape: {} cases agree",
        block_on(gpu_cases::data_movement(&gpu()))
    );
}

/// A model on the GPU and on the CPU kernels.
fn both(file: &str, gpu: &Arc<Gpu>) -> (Network, Network) {
    let on_gpu = block_on(Network::load(graph(file), &Target::Gpu(gpu.clone())));
    assert_eq!(on_gpu.kernels(), Kernels::Gpu, "{file}: {:?}", on_gpu.fallback());
    (on_gpu, Network::new(graph(file), &Target::Cpu))
}

fn run_gpu(net: &Network, inputs: &[Tensor]) -> Vec<Tensor> {
    let out = block_on(net.run(inputs)).unwrap();
    assert_eq!(net.fallback(), None, "the GPU failed");
    out
}

#[test]
fn mobilefacenet_matches_cpu_on_real_faces() {
    let Some(cases) = cases("MobileFaceNet.tflite") else { return };
    let gpu = gpu();
    let (on_gpu, on_cpu) = both("MobileFaceNet.tflite", &gpu);
    let (mut worst_cos, mut worst_abs, mut faces) = (1.0f64, 0.0f32, 0);
    // Each case is two real aligned crops (the file's batch of 2); then all of them in one batch.
    let mut all = Vec::new();
    for case in &cases {
        let got = run_gpu(&on_gpu, &case.inputs);
        let want = on_cpu.run_cpu(&case.inputs).unwrap();
        for (g, w) in got[0].data.chunks(192).zip(want[0].data.chunks(192)) {
            let (mut g, mut w) = (g.to_vec(), w.to_vec());
            l2_normalize(&mut g);
            l2_normalize(&mut w);
            let (c, d) = (cosine(&g, &w), max_abs_diff(&g, &w));
            assert!(c >= 0.9999, "{}: cosine {c}", case.name);
            worst_cos = worst_cos.min(c);
            worst_abs = worst_abs.max(d);
            faces += 1;
        }
        all.extend_from_slice(&case.inputs[0].data);
    }
    let n = all.len() / (112 * 112 * 3);
    let batch = Tensor::new(vec![n, 112, 112, 3], all).unwrap();
    let got = run_gpu(&on_gpu, std::slice::from_ref(&batch));
    let want = on_cpu.run_cpu(&[batch]).unwrap();
    for (g, w) in got[0].data.chunks(192).zip(want[0].data.chunks(192)) {
        let (mut g, mut w) = (g.to_vec(), w.to_vec());
        l2_normalize(&mut g);
        l2_normalize(&mut w);
        let c = cosine(&g, &w);
        assert!(c >= 0.9999, "batch of {n}: cosine {c}");
        worst_cos = worst_cos.min(c);
    }
    println!(
        "MobileFaceNet on {}: {faces} real faces at batch 2 and {n} at batch {n}; vs CPU: worst cosine {worst_cos:.8}, worst max abs difference (normalised) {worst_abs:.2e}",
        gpu.name
    );
}

/// Raw outputs of a model on real inputs: GPU against CPU within `tolerance` of each output's largest
/// magnitude (BlazeFace's raw box offsets reach thousands).
fn raw_outputs_agree(file: &str, tolerance: f32) {
    let Some(cases) = cases(file) else { return };
    let gpu = gpu();
    let (on_gpu, on_cpu) = both(file, &gpu);
    let mut worst = vec![0.0f32; on_cpu.graph().outputs.len()];
    for case in &cases {
        let got = run_gpu(&on_gpu, &case.inputs);
        let want = on_cpu.run_cpu(&case.inputs).unwrap();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.shape, w.shape);
            let magnitude = w.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let d = max_abs_diff(&g.data, &w.data);
            assert!(
                d <= tolerance * magnitude,
                "{file} {}: output {k} differs by {d} (largest value {magnitude})",
                case.name
            );
            worst[k] = worst[k].max(d / magnitude);
        }
    }
    println!(
        "{file} on {}: {} real inputs; worst difference per output, relative to its largest value: {}",
        gpu.name,
        cases.len(),
        worst.iter().map(|w| format!("{w:.2e}")).collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn blazeface_short_range_matches_cpu_on_real_frames() {
    raw_outputs_agree("face_detection_short_range.tflite", 1e-5);
}

#[test]
fn blazeface_full_range_matches_cpu_on_real_frames() {
    raw_outputs_agree("face_detection_full_range.tflite", 1e-5);
}

#[test]
fn onet_matches_cpu_on_real_crops() {
    raw_outputs_agree("onet.tflite", 1e-5);
}

#[test]
fn onnx_models_match_cpu_on_real_inputs() {
    // The six ONNX models (grouped and depthwise convolutions, squeeze-and-excitation, a channel shuffle's
    // TRANSPOSE and SLICEs, a detector's softmax) on the same real inputs as their fidelity test.
    for file in
        ["fr_liveness.onnx", "fr_feature.onnx", "fr_landmark.onnx", "fr_eye.onnx", "fr_detect.onnx", "fr_pose.onnx"]
    {
        raw_outputs_agree(file, 1e-5);
    }
}

#[test]
fn the_pipeline_on_the_gpu_finds_the_same_faces_and_falls_back_when_the_device_is_lost() {
    if !have_faces() {
        return;
    }
    let gpu = gpu();
    let (on_gpu, on_cpu) = (default_pipeline(&Target::Gpu(gpu.clone())), default_pipeline(&Target::Cpu));
    assert_eq!(on_gpu.kernels(), Kernels::Gpu);
    let photos = ["group/bbt4.jpg", "emotions-a/a1.jpg", "group/group5.jpg"];
    let options = DetectOptions { tiles: false, ..on_cpu.detector.default_options() };
    let faces_of = |p: &Pipeline, photo: &str| {
        let frame = localface::frame::load(&faces_dir().join(photo)).unwrap();
        block_on(p.faces(&frame, &options, LandmarkSource::Onet)).unwrap()
    };
    let agree = |photo: &str, got: &[localface::face::Face], want: &[localface::face::Face]| {
        assert_eq!(got.len(), want.len(), "{photo}: faces found");
        for (g, w) in got.iter().zip(want) {
            let offset = g.detection.bbox.iter().zip(&w.detection.bbox).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(offset < 0.5, "{photo}: boxes differ by {offset} px");
            let c = cosine(&g.embedding, &w.embedding);
            assert!(c >= 0.9999, "{photo}: embedding cosine {c}");
        }
    };
    // The first photo on the GPU; then the device is lost in the middle of the stream: the next photos
    // still get answers, from the CPU, the same ones, and the reason is reported.
    let want: Vec<_> = photos.iter().map(|p| faces_of(&on_cpu, p)).collect();
    agree(photos[0], &faces_of(&on_gpu, photos[0]), &want[0]);
    assert_eq!(on_gpu.fallback(), None);
    gpu.simulate_loss();
    for (photo, want) in photos.iter().zip(&want).skip(1) {
        agree(photo, &faces_of(&on_gpu, photo), want);
    }
    assert_eq!(on_gpu.kernels(), Kernels::Cpu);
    let reason = on_gpu.fallback().expect("the fallback is reported");
    assert!(reason.contains("lost"), "{reason}");
    // A model loaded on a lost device stays on the CPU and says why.
    let late = block_on(Network::load(graph(MOBILEFACENET), &Target::Gpu(gpu)));
    assert_eq!(late.kernels(), Kernels::Cpu);
    assert!(late.fallback().unwrap().contains("lost"));
}

#[test]
fn auto_times_a_hardware_gpu_against_the_cpu_and_says_why() {
    let gpu = gpu();
    let embedder = graph(MOBILEFACENET);
    let (target, choice) = block_on(Target::resolve(Backend::Auto, || Ok(embedder.clone()))).unwrap();
    let choice = choice.expect("auto says what it chose");
    if gpu.software {
        assert!(matches!(target, Target::Cpu), "{} is emulated: the CPU kernels are faster", gpu.name);
        assert!(choice.reason.contains("software GPU") && !choice.measured(), "{choice:?}");
    } else {
        assert!(choice.measured(), "{choice:?}");
        assert_eq!(matches!(target, Target::Gpu(_)), choice.gpu, "{choice:?}");
        // A remembered choice is taken as it is, without timing again.
        let remembered = Choice { gpu: false, reason: "remembered".into(), ..choice.clone() };
        let (target, again) = block_on(Target::auto(|| Ok(embedder.clone()), Some(remembered)));
        assert!(matches!(target, Target::Cpu) && again.remembered && again.reason == "remembered");
    }
    // The timing itself, on whatever adapter this is: both backends timed, the faster one taken, said in words.
    let raced = block_on(race(&embedder, &gpu));
    println!("auto on {}: {raced:?}", gpu.name);
    let (gpu_ms, cpu_ms) = (raced.gpu_ms.unwrap(), raced.cpu_ms.unwrap());
    assert!(gpu_ms > 0.0 && cpu_ms > 0.0, "{raced:?}");
    assert_eq!(raced.gpu, gpu_ms < cpu_ms, "{raced:?}");
    assert!(raced.reason.contains(&format!("{gpu_ms:.2} ms")) && raced.reason.contains(&format!("{cpu_ms:.2} ms")));
    assert!(matches!(block_on(Target::resolve(Backend::Gpu, || Ok(embedder.clone()))).unwrap().0, Target::Gpu(_)));
}

/// Real aligned crops (the reference inputs) in batches of two.
fn crop_batches() -> Vec<Tensor> {
    cases("MobileFaceNet.tflite").map(|cs| cs.into_iter().map(|c| c.inputs[0].clone()).collect()).unwrap_or_default()
}

#[test]
fn out_of_memory_in_the_middle_of_a_stream_falls_back_to_the_same_results() {
    let batches = crop_batches();
    if batches.is_empty() {
        return;
    }
    let gpu = gpu();
    let (on_gpu, on_cpu) = both("MobileFaceNet.tflite", &gpu);
    for (k, x) in batches.iter().enumerate() {
        if k == 3 {
            gpu.inject(Fault::OutOfMemory);
        }
        let got = block_on(on_gpu.run(std::slice::from_ref(x))).unwrap();
        let want = on_cpu.run_cpu(std::slice::from_ref(x)).unwrap();
        assert_eq!(on_gpu.kernels(), if k < 3 { Kernels::Gpu } else { Kernels::Cpu }, "batch {k}");
        for (g, w) in got[0].data.chunks(192).zip(want[0].data.chunks(192)) {
            let (mut g, mut w) = (g.to_vec(), w.to_vec());
            l2_normalize(&mut g);
            l2_normalize(&mut w);
            assert!(cosine(&g, &w) >= 0.9999, "batch {k}");
        }
    }
    assert!(on_gpu.fallback().unwrap().contains("out of memory"));
}

#[test]
fn a_kernel_the_device_cannot_build_leaves_that_model_on_the_cpu() {
    let batches = crop_batches();
    if batches.is_empty() {
        return;
    }
    let gpu = gpu();
    // A detector already on the GPU; then the embedder's kernels fail to build as it loads.
    let detector = block_on(Network::load(graph(SHORT_RANGE), &Target::Gpu(gpu.clone())));
    gpu.inject(Fault::PipelineCreation);
    let embedder = block_on(Network::load(graph(MOBILEFACENET), &Target::Gpu(gpu.clone())));
    assert_eq!(embedder.kernels(), Kernels::Cpu);
    let reason = embedder.fallback().unwrap();
    assert!(reason.contains("this is not WGSL") || reason.to_lowercase().contains("pars"), "{reason}");
    let on_cpu = Network::new(graph(MOBILEFACENET), &Target::Cpu);
    for x in &batches[..2] {
        assert_eq!(
            block_on(embedder.run(std::slice::from_ref(x))).unwrap(),
            on_cpu.run_cpu(std::slice::from_ref(x)).unwrap()
        );
    }
    // The rest of the device is unharmed: the detector still runs on the GPU.
    let frame = Tensor::new(vec![1, 128, 128, 3], vec![0.25; 128 * 128 * 3]).unwrap();
    block_on(detector.run(&[frame])).unwrap();
    assert_eq!(detector.kernels(), Kernels::Gpu, "{:?}", detector.fallback());
    println!("pipeline creation failure reported as: {}", reason.lines().next().unwrap_or_default());
}
