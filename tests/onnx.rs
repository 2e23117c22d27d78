//! The ONNX reader on bad files: refused with a clear error, never a panic, no allocation sized by the file
//! beyond what it holds; and on small hand-built models whose results are known. (Its fidelity on real
//! models against onnxruntime is in `fidelity.rs`.)
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::onnx_build::*;
use common::{model_bytes, root, run_zeros};
use localface::backend::{Network, Target};
use localface::model::onnx::proto::*;
use localface::model::{Graph, Tensor};

fn error(bytes: &[u8]) -> String {
    Graph::from_onnx(bytes).err().map(|e| e.to_string()).unwrap_or_else(|| "loaded".into())
}

#[test]
fn what_is_not_onnx_is_refused() {
    assert!(error(b"").contains("no default-domain opset"), "{}", error(b""));
    for junk in [&b"\xff\xff\xff\xff\xff"[..], b"TFL3 not onnx at all", &[0x0a; 64]] {
        let e = error(junk);
        assert!(e.contains("not an ONNX model"), "{e}");
    }
    let tflite = model_bytes("face_detection_short_range.tflite");
    assert!(error(&tflite).contains("not an ONNX model"), "{}", error(&tflite));
}

#[test]
fn every_prefix_of_a_real_model_is_refused_or_loads_without_panicking() {
    let bytes = model_bytes("fr_liveness.onnx");
    let mut refused = 0;
    for len in (0..bytes.len()).step_by(bytes.len() / 97) {
        refused += usize::from(Graph::from_onnx(&bytes[..len]).is_err());
    }
    assert!(refused >= 95, "{refused} of 98 prefixes refused");
}

#[test]
fn sizes_read_from_the_file_cannot_ask_for_huge_tensors() {
    // A filter claiming 2^40 values with none behind it: refused before anything of that size is made.
    let huge = TensorProto { name: "w".into(), dims: vec![1 << 20, 1 << 20], data_type: FLOAT, ..Default::default() };
    let bytes = model(vec![node("MatMul", &["x", "w"], "y", vec![])], vec![huge], &[1, 4], "y");
    assert!(error(&bytes).contains("larger than"), "{}", error(&bytes));
    // Data that does not fill its dims, and a negative dimension.
    let short = floats("w", &[4, 2], vec![0.0; 7]);
    let bytes = model(vec![node("MatMul", &["x", "w"], "y", vec![])], vec![short], &[1, 4], "y");
    assert!(error(&bytes).contains("7 values for 8 elements"), "{}", error(&bytes));
    let negative = floats("w", &[-4, 2], vec![]);
    let bytes = model(vec![node("MatMul", &["x", "w"], "y", vec![])], vec![negative], &[1, 4], "y");
    assert!(error(&bytes).contains("dimension -4"), "{}", error(&bytes));
}

#[test]
fn an_op_it_does_not_take_is_named() {
    let bytes = model(vec![node("LpNormalization", &["x"], "y", vec![])], vec![], &[1, 3, 4, 4], "y");
    let e = error(&bytes);
    assert!(e.contains("the ONNX op LpNormalization is not supported") && e.contains("ONNX node 0"), "{e}");
    // Options it does not take are named too: a grouping that does not divide the channels, a transposition
    // that moves the batch, a slice with a step, a pad in reflect mode, a softmax over the batch.
    let grouped = floats("w", &[4, 2, 1, 1], vec![1.0; 8]);
    let bytes =
        model(vec![node("Conv", &["x", "w"], "y", vec![attr_int("group", 3)])], vec![grouped], &[1, 4, 2, 2], "y");
    assert!(error(&bytes).contains("group 3 over 4 channels"), "{}", error(&bytes));
    let perm = attr_ints("perm", &[1, 0, 2, 3]);
    let bytes = model(vec![node("Transpose", &["x"], "y", vec![perm])], vec![], &[1, 3, 4, 4], "y");
    assert!(error(&bytes).contains("moves the batch"), "{}", error(&bytes));
    let inits = vec![ints("s", &[0]), ints("e", &[4]), ints("a", &[2]), ints("k", &[2])];
    let bytes = model(vec![node("Slice", &["x", "s", "e", "a", "k"], "y", vec![])], inits, &[1, 3, 4, 4], "y");
    assert!(error(&bytes).contains("steps [2]"), "{}", error(&bytes));
    let mode =
        AttributeProto { name: "mode".into(), s: b"reflect".to_vec(), r#type: ATTRIBUTE_STRING, ..Default::default() };
    let inits = vec![ints("p", &[0, 0, 1, 1, 0, 0, 1, 1])];
    let bytes = model(vec![node("Pad", &["x", "p"], "y", vec![mode])], inits, &[1, 3, 4, 4], "y");
    assert!(error(&bytes).contains("mode reflect"), "{}", error(&bytes));
    let bytes = model(vec![node("Softmax", &["x"], "y", vec![attr_int("axis", 0)])], vec![], &[1, 3, 4, 4], "y");
    assert!(error(&bytes).contains("softmax over the batch"), "{}", error(&bytes));
}

#[test]
fn the_ops_model_takes_every_op_with_the_rearrangements_it_needs() {
    let graph = Graph::from_onnx(&ops_model()).unwrap();
    let shapes: Vec<&[usize]> = graph.outputs.iter().map(|&o| &graph.tensors[o].shape[..]).collect();
    assert_eq!(shapes, [&[1, 80, 3][..], &[1, 4], &[1, 8]]);
    // The NCHW-to-NHWC transposition before the softmax costs nothing; the channel shuffle one TRANSPOSE
    // of its two channel parts; the grouped convolution a SLICE per group.
    let count = |name: &str| graph.nodes.iter().filter(|n| n.op.name() == name).count();
    assert_eq!((count("TRANSPOSE"), count("SLICE"), count("CONV_2D")), (1, 4 + 1 + 2, 5));
}

/// Runs a one-input model on both CPU backends.
fn run(bytes: &[u8], input: Tensor) -> Vec<Vec<f32>> {
    let graph = Graph::from_onnx(bytes).unwrap_or_else(|e| panic!("{e}"));
    [Target::Reference, Target::Cpu]
        .iter()
        .map(|t| Network::new(graph.clone(), t).run_cpu(std::slice::from_ref(&input)).unwrap().remove(0).data)
        .collect()
}

#[test]
fn nchw_weights_and_explicit_pads_come_out_right() {
    // A 3x3 convolution, stride 2, pads 1 on all sides (not SAME's for an even input: a PAD goes first),
    // over 2 channels of a 4x4 NCHW image, then batch norm (folded) and a sigmoid. Given NHWC, as the
    // graph takes it: pixel (y, x) channel c holds 10 c + 4 y + x.
    let w: Vec<f32> = (0..3 * 2 * 9).map(|i| (i % 7) as f32 - 3.0).collect();
    let conv =
        node("Conv", &["x", "w", "b"], "c", vec![attr_ints("pads", &[1, 1, 1, 1]), attr_ints("strides", &[2, 2])]);
    let bn = node("BatchNormalization", &["c", "g", "beta", "mean", "var"], "n", vec![]);
    let sig = node("Sigmoid", &["n"], "y", vec![]);
    let inits = vec![
        floats("w", &[3, 2, 3, 3], w.clone()),
        floats("b", &[3], vec![0.5, -0.5, 1.0]),
        floats("g", &[3], vec![0.01, 0.02, 0.03]),
        floats("beta", &[3], vec![0.1, 0.0, -0.1]),
        floats("mean", &[3], vec![1.0, 2.0, 3.0]),
        floats("var", &[3], vec![4.0, 1.0, 0.25]),
    ];
    let bytes = model(vec![conv, bn, sig], inits, &[1, 2, 4, 4], "y");
    let pixel = |c: usize, y: i64, x: i64| {
        if (0..4).contains(&y) && (0..4).contains(&x) {
            10.0 * c as f32 + 4.0 * y as f32 + x as f32
        } else {
            0.0
        }
    };
    let mut want = Vec::new();
    for oy in 0..2i64 {
        for ox in 0..2i64 {
            for o in 0..3 {
                let mut sum = [0.5, -0.5, 1.0][o];
                for c in 0..2 {
                    for ky in 0..3i64 {
                        for kx in 0..3i64 {
                            sum += w[((o * 2 + c) * 3 + ky as usize) * 3 + kx as usize]
                                * pixel(c, 2 * oy - 1 + ky, 2 * ox - 1 + kx);
                        }
                    }
                }
                let (g, beta, mean, var) =
                    ([0.01, 0.02, 0.03][o], [0.1, 0.0, -0.1][o], [1.0, 2.0, 3.0][o], [4.0f32, 1.0, 0.25][o]);
                let n = (sum - mean) / (var + 1e-5).sqrt() * g + beta;
                want.push(1.0 / (1.0 + (-n).exp()));
            }
        }
    }
    let input: Vec<f32> = (0..16).flat_map(|p| (0..2).map(move |c| pixel(c, p / 4, p % 4))).collect();
    for got in run(&bytes, Tensor::new(vec![1, 4, 4, 2], input).unwrap()) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
}

/// Small models of each op family, the seeds of the onnx_reader fuzzer.
fn seed_models() -> Vec<(&'static str, Vec<u8>)> {
    let ints = |name: &str, data: Vec<i64>| TensorProto {
        name: name.into(),
        dims: vec![data.len() as i64],
        data_type: INT64,
        int64_data: data,
        ..Default::default()
    };
    let depthwise = AttributeProto { name: "group".into(), i: 4, ..Default::default() };
    let pads = attr_ints("pads", &[1, 1, 1, 1]);
    vec![
        (
            "depthwise-prelu-pool",
            model(
                vec![
                    node("Conv", &["x", "w"], "c", vec![depthwise, pads]),
                    node("PRelu", &["c", "s"], "p", vec![]),
                    node(
                        "MaxPool",
                        &["p"],
                        "y",
                        vec![attr_ints("kernel_shape", &[2, 2]), attr_ints("strides", &[2, 2])],
                    ),
                ],
                vec![floats("w", &[4, 1, 3, 3], vec![0.1; 36]), floats("s", &[4, 1, 1], vec![0.25; 4])],
                &[1, 4, 6, 6],
                "y",
            ),
        ),
        (
            "shape-reshape-gemm",
            model(
                vec![
                    node("GlobalAveragePool", &["x"], "g", vec![]),
                    node("Shape", &["g"], "s", vec![]),
                    node("Gather", &["s", "zero"], "n", vec![]),
                    node("Unsqueeze", &["n"], "u", vec![attr_ints("axes", &[0])]),
                    node(
                        "Concat",
                        &["u", "minus"],
                        "t",
                        vec![AttributeProto { name: "axis".into(), ..Default::default() }],
                    ),
                    node("Reshape", &["g", "t"], "r", vec![]),
                    node(
                        "Gemm",
                        &["r", "b", "c"],
                        "y",
                        vec![AttributeProto { name: "transB".into(), i: 1, ..Default::default() }],
                    ),
                ],
                vec![
                    TensorProto { name: "zero".into(), data_type: INT64, int64_data: vec![0], ..Default::default() },
                    ints("minus", vec![-1]),
                    floats("b", &[2, 3], vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.0]),
                    floats("c", &[2], vec![0.5, -0.5]),
                ],
                &[1, 3, 4, 4],
                "y",
            ),
        ),
        (
            "matmul-relu-add",
            model(
                vec![
                    node("MatMul", &["x", "w"], "m", vec![]),
                    node("Relu", &["m"], "r", vec![]),
                    node("Add", &["r", "m"], "y", vec![]),
                ],
                vec![floats("w", &[4, 3], (0..12).map(|i| i as f32 - 6.0).collect())],
                &[2, 4],
                "y",
            ),
        ),
    ]
}

#[test]
fn the_seed_models_load_and_run() {
    for (name, bytes) in seed_models() {
        let graph = Graph::from_onnx(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut shape = graph.tensors[graph.inputs[0]].shape.clone();
        shape[0] = 1;
        let count = shape.iter().product();
        let outs = run(&bytes, Tensor::new(shape, vec![0.5; count]).unwrap());
        let close = outs[0].iter().zip(&outs[1]).all(|(a, b)| (a - b).abs() <= 1e-5 * b.abs().max(1.0));
        assert!(
            close && !outs[0].is_empty(),
            "{name}: the reference {:?} and the CPU backend {:?} differ",
            outs[0],
            outs[1]
        );
    }
}

/// Writes the seeds into fuzz/corpus/onnx_reader (run once by hand when they change).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = root().join("fuzz/corpus/onnx_reader");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seed_models().into_iter().chain([("every-op", ops_model())]) {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

#[test]
fn every_model_in_the_fuzz_corpus_loads_or_is_refused() {
    // The onnx_reader fuzzer's corpus, replayed as tflite_reader's is (hostile.rs): each file is refused or
    // loads; one that loads with a small input runs or fails alike on the reference and the CPU backend.
    let (mut files, mut ran) = (0, 0);
    for entry in std::fs::read_dir(root().join("fuzz/corpus/onnx_reader")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        if let Ok(graph) = Graph::from_onnx(&bytes) {
            if localface::model::shape::cost_per_image(&graph).is_ok_and(|c| c.steps <= 1 << 24) {
                ran += usize::from(run_zeros(&graph).is_ok());
            }
        }
        files += 1;
    }
    assert!(files >= 3 && ran > 0, "{files} files in the corpus, {ran} ran");
}
