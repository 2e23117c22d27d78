//! Fidelity against the reference interpreter: the Rust CPU backend runs the exact inputs that
//! `scripts/make-references.py` gave `ai-edge-litert`, on real photos, and must reproduce its outputs.
//! The references are made fresh by `scripts/make-references.sh` (CI runs it before the tests).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::onnx_build::OPS_MODEL;
use common::references::{self, cases};
use common::*;
use localface::backend::{Network, Target};
use localface::cpu::fuse::Plan;
use localface::face::embed::l2_normalize;
use localface::model::{Graph, Tensor};

/// Runs every reference case of a model and checks each raw output: against the reference kernels within
/// `tolerance`, and against the default (XNNPACK) path within 1e-5 of the output's largest magnitude, since
/// the delegate's own rounding grows with the values (BlazeFace's raw boxes reach thousands). Kernels that
/// fuse multiply-add (x86-64 AVX2 + FMA) round as XNNPACK does, not as the reference kernels: against those
/// they get the default path's criterion too (CI checks the SSE kernels, which add in the reference's
/// order, with `LOCALFACE_KERNELS=sse`, against `tolerance` as before).
/// Returns the worst differences per output: (reference, default).
fn compare_raw(model: &str, tolerance: f32, backend: Target) -> (Vec<f32>, Vec<f32>) {
    compare_graph(model, graph(model), tolerance, backend)
}

/// `compare_raw` of a graph read already (the reference cases are those of `model`).
fn compare_graph(model: &str, graph: Graph, tolerance: f32, backend: Target) -> (Vec<f32>, Vec<f32>) {
    let net = Network::new(graph.clone(), &backend);
    let fused = matches!(backend, Target::Cpu) && localface::cpu::simd::arch().contains("fma");
    let mut worst = (vec![0.0f32; graph.outputs.len()], vec![0.0f32; graph.outputs.len()]);
    for case in cases(model).into_iter().flatten() {
        let got = net.run_cpu(&case.inputs).unwrap();
        assert_eq!(got.len(), case.reference.len());
        for (k, g) in got.iter().enumerate() {
            let (r, e) = (&case.reference[k], &case.default[k]);
            assert_eq!(
                g.data.len(),
                r.data.len(),
                "{model} {}: output {k} shape {:?} vs {:?}",
                case.name,
                g.shape,
                r.shape
            );
            let d = max_abs_diff(&g.data, &r.data);
            let magnitude = e.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let tolerance = if fused { tolerance.max(1e-5 * magnitude) } else { tolerance };
            assert!(d <= tolerance, "{model} {}: output {k} differs by {d} (tolerance {tolerance})", case.name);
            let d_default = max_abs_diff(&g.data, &e.data);
            assert!(
                d_default <= 1e-5 * magnitude,
                "{model} {}: output {k} differs from the default path by {d_default}",
                case.name
            );
            worst.0[k] = worst.0[k].max(d);
            worst.1[k] = worst.1[k].max(d_default);
        }
    }
    worst
}

fn kernels(t: &Target) -> String {
    if matches!(t, Target::Reference) {
        "reference".into()
    } else {
        format!("cpu ({})", localface::cpu::simd::arch())
    }
}

/// Both CPU backends: the scalar reference kernels and the SIMD kernels.
const BACKENDS: [Target; 2] = [Target::Reference, Target::Cpu];

#[test]
fn mobilefacenet_matches_reference_interpreter() {
    for backend in BACKENDS {
        mobilefacenet_on(backend);
    }
}

fn mobilefacenet_on(backend: Target) {
    let net = Network::new(graph("MobileFaceNet.tflite"), &backend);
    let (mut worst_cos, mut worst_abs, mut faces) = (1.0f64, 0.0f32, 0);
    let mut check = |got: &[f32], expected: &[f32], what: &str| {
        let (mut g, mut e) = (got.to_vec(), expected.to_vec());
        l2_normalize(&mut g);
        l2_normalize(&mut e);
        let (c, d) = (cosine(&g, &e), max_abs_diff(&g, &e));
        assert!(c >= 0.99999 && d <= 1e-4, "{what}: cosine {c}, max abs difference {d}");
        worst_cos = worst_cos.min(c);
        worst_abs = worst_abs.max(d);
    };
    let mut worst_default = (1.0f64, 0.0f32);
    let Some(cases) = cases("MobileFaceNet.tflite") else { return };
    for case in cases {
        let (inputs, expected) = (&case.inputs, &case.reference[0]);
        // At the file's batch of 2, as the interpreter ran it.
        let got = net.run_cpu(inputs).unwrap();
        let dim = expected.shape[1];
        for (row, (g, e)) in got[0].data.chunks(dim).zip(expected.data.chunks(dim)).enumerate() {
            check(g, e, &format!("{} face {row}", case.name));
            faces += 1;
            // The same criteria against the interpreter's default path.
            let (mut g, mut e) = (g.to_vec(), case.default[0].data[row * dim..][..dim].to_vec());
            l2_normalize(&mut g);
            l2_normalize(&mut e);
            let (c, d) = (cosine(&g, &e), max_abs_diff(&g, &e));
            assert!(
                c >= 0.99999 && d <= 1e-4,
                "{} face {row} vs default path: cosine {c}, max abs difference {d}",
                case.name
            );
            worst_default = (worst_default.0.min(c), worst_default.1.max(d));
        }
        // The batch is free: each face alone gives the same embedding.
        let per_face = inputs[0].data.len() / inputs[0].shape[0];
        for (row, x) in inputs[0].data.chunks(per_face).enumerate() {
            let single = Tensor::new(vec![1, 112, 112, 3], x.to_vec()).unwrap();
            let got = net.run_cpu(&[single]).unwrap();
            check(&got[0].data, &expected.data[row * dim..][..dim], &format!("{} face {row} at batch 1", case.name));
        }
    }
    println!("MobileFaceNet on {}: {faces} faces; vs reference kernels: worst cosine {worst_cos:.8}, worst max abs difference {worst_abs:.2e}; vs default path: worst cosine {:.8}, worst max abs difference {:.2e}", net.kernels().name(), worst_default.0, worst_default.1);
}

#[test]
fn blazeface_short_range_matches_reference_interpreter() {
    for backend in BACKENDS {
        let worst = compare_raw("face_detection_short_range.tflite", 1e-3, backend.clone());
        println!("BlazeFace short range on {}: worst max abs difference per output (regressors, scores), vs reference kernels {:?}, vs default path {:?}", kernels(&backend), worst.0, worst.1);
    }
}

#[test]
fn blazeface_full_range_matches_reference_interpreter() {
    for backend in BACKENDS {
        let worst = compare_raw("face_detection_full_range.tflite", 1e-3, backend.clone());
        println!("BlazeFace full range on {}: worst max abs difference per output (regressors, scores), vs reference kernels {:?}, vs default path {:?}", kernels(&backend), worst.0, worst.1);
    }
}

#[test]
fn onet_matches_reference_interpreter() {
    for backend in BACKENDS {
        let worst = compare_raw("onet.tflite", 1e-4, backend.clone());
        println!("O-Net on {}: worst max abs difference per output (prob, box, landmarks), vs reference kernels {:?}, vs default path {:?}", kernels(&backend), worst.0, worst.1);
    }
}

#[test]
fn onnx_models_match_onnxruntime() {
    // Read from ONNX (NCHW, converted to NHWC at load), run on the same kernels as the TFLite models, and
    // compared with onnxruntime on face crops (its outputs are both "reference" and "default" here).
    for (model, outputs) in [
        ("fr_liveness.onnx", "logits of live, and two kinds of attack"),
        ("fr_feature.onnx", "512-d embedding"),
        ("fr_landmark.onnx", "68 landmarks"),
        ("fr_eye.onnx", "logits of open and closed"),
        ("fr_detect.onnx", "scores, boxes"),
        ("fr_pose.onnx", "yaw, pitch, roll bins"),
    ] {
        for backend in BACKENDS {
            let worst = compare_raw(model, 1e-4, backend.clone());
            println!(
                "{model} on {}: worst max abs difference ({outputs}) vs onnxruntime {:?}",
                kernels(&backend),
                worst.1
            );
        }
    }
    // Every op the reader takes, in one model of them; onnxruntime ran the copy make-references.sh wrote.
    let bytes = common::onnx_build::ops_model();
    if cases(OPS_MODEL).is_some() {
        let ran = std::fs::read(references::references_dir().join(OPS_MODEL)).unwrap();
        assert!(ran == bytes, "the references' {OPS_MODEL} is stale: run scripts/make-references.sh");
    }
    let ops = Graph::from_onnx(&bytes).unwrap();
    for backend in BACKENDS {
        let worst = compare_graph(OPS_MODEL, ops.clone(), 1e-5, backend.clone());
        println!(
            "onnx-ops.onnx on {}: worst max abs difference (softmax, gate, mean) vs onnxruntime {:?}",
            kernels(&backend),
            worst.1
        );
    }
    // The reader folds what the file spells out: every BatchNormalization into the op before it, every
    // PRelu into its convolution; what is left of fr_liveness's MULs is its squeeze-and-excitation gates.
    let count = |g: &Graph, name: &str| g.nodes.iter().filter(|n| n.op.name() == name).count();
    let feature = graph("fr_feature.onnx");
    assert_eq!(count(&feature, "PRELU") + count(&feature, "MUL"), 0, "fr_feature: PReLU or batch norm left");
    let liveness = graph("fr_liveness.onnx");
    assert_eq!((count(&liveness, "PRELU"), count(&liveness, "MUL")), (0, 3), "fr_liveness: PReLU or batch norm left");
}

#[test]
fn rewrites_fuse_the_spelled_out_ops() {
    // Every PReLU and activation is folded into the op before it; no DEQUANTIZE is left.
    let count = |g: &Graph, name: &str| g.nodes.iter().filter(|n| n.op.name() == name).count();
    let g = graph("MobileFaceNet.tflite");
    for spelled in ["RELU", "ABS", "SUB", "MUL", "PRELU"] {
        assert_eq!(count(&g, spelled), 0, "MobileFaceNet still has {spelled}");
    }
    assert_eq!(
        count(&g, "CONV_2D") + count(&g, "DEPTHWISE_CONV_2D") + count(&g, "ADD") + count(&g, "RESHAPE"),
        g.nodes.len()
    );
    let g = graph("onet.tflite");
    assert_eq!(count(&g, "NEG") + count(&g, "RELU") + count(&g, "PRELU"), 0, "onet PReLU not fused");
    for model in ["face_detection_short_range.tflite", "face_detection_full_range.tflite"] {
        let g = graph(model);
        assert_eq!(count(&g, "DEQUANTIZE") + count(&g, "RELU"), 0, "{model}: DEQUANTIZE or RELU left");
    }
}

#[test]
fn residual_adds_fold_into_their_convolutions_with_the_same_values() {
    // The CPU backend's own lowering (`cpu::fuse`): every residual ADD (and the PAD widening its skip) goes
    // into the convolution before it, and the reference kernels give the same values, bit for bit, on real
    // inputs.
    let count = |g: &Graph, plan: &Plan, name: &str| plan.steps.iter().filter(|s| s.name(g) == name).count();
    // Full range keeps three ADDs: its upsampled feature maps join a convolution that has its own ReLU.
    for (model, joins, adds_left) in [
        ("MobileFaceNet.tflite", 12, 0),
        ("face_detection_short_range.tflite", 16, 0),
        ("face_detection_full_range.tflite", 20, 3),
    ] {
        let plain = graph(model);
        let fused = Plan::residual_adds_fused(&plain);
        assert_eq!(count(&plain, &fused, "CONV_2D+ADD"), joins, "{model}");
        assert_eq!(fused.fused_joins(), joins, "{model}");
        assert_eq!(count(&plain, &fused, "ADD"), adds_left, "{model}: ADDs left");
        assert_eq!(count(&plain, &fused, "PAD"), 0, "{model}: PAD left");
        let mut compared = 0;
        for case in cases(model).into_iter().flatten() {
            let want = localface::cpu::run(&plain, &case.inputs).unwrap();
            assert_eq!(
                localface::cpu::run_reference(&plain, &fused, &case.inputs).unwrap(),
                want,
                "{model} {}",
                case.name
            );
            compared += 1;
        }
        println!("{model}: {joins} residual joins fused; the same outputs on {compared} real inputs");
    }
}
