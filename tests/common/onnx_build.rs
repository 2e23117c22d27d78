//! ONNX models built in code (prost encodes them): the pieces the reader's tests put together, and the model
//! of every op that `tests/fidelity.rs` checks against onnxruntime. Shared by `tests/onnx.rs`, the fidelity
//! test and `examples/onnx_ops_model.rs`, so the file onnxruntime runs is the one the tests build.
#![allow(dead_code)]

use localface::model::onnx::proto::*;
use prost::Message;

/// The ops model's file name among the reference outputs.
pub const OPS_MODEL: &str = "onnx-ops.onnx";

pub fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), ints: ints.to_vec(), r#type: ATTRIBUTE_INTS, ..Default::default() }
}

pub fn floats(name: &str, dims: &[i64], data: Vec<f32>) -> TensorProto {
    TensorProto { name: name.into(), dims: dims.to_vec(), data_type: FLOAT, float_data: data, ..Default::default() }
}

pub fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims.iter().map(|&d| Dimension { dim_value: d, ..Default::default() }).collect();
    let tensor_type = TensorTypeProto { elem_type: FLOAT, shape: Some(TensorShapeProto { dim }) };
    ValueInfoProto { name: name.into(), r#type: Some(TypeProto { tensor_type: Some(tensor_type) }) }
}

pub fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

pub fn model(nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, input: &[i64], output: &str) -> Vec<u8> {
    model_with_outputs(nodes, initializer, input, &[output])
}

/// `model` with several outputs.
pub fn model_with_outputs(
    nodes: Vec<NodeProto>,
    initializer: Vec<TensorProto>,
    input: &[i64],
    outputs: &[&str],
) -> Vec<u8> {
    let graph = GraphProto {
        node: nodes,
        initializer,
        input: vec![value("x", input)],
        output: outputs.iter().map(|name| ValueInfoProto { name: name.to_string(), r#type: None }).collect(),
        ..Default::default()
    };
    let opset = vec![OperatorSetIdProto { domain: String::new(), version: 11 }];
    ModelProto { ir_version: 6, graph: Some(graph), opset_import: opset }.encode_to_vec()
}

pub fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i, r#type: ATTRIBUTE_INT, ..Default::default() }
}

pub fn ints(name: &str, data: &[i64]) -> TensorProto {
    let dims = vec![data.len() as i64];
    TensorProto { name: name.into(), dims, data_type: INT64, int64_data: data.to_vec(), ..Default::default() }
}

/// A small model (opset 11) of every op the reader takes, on a 32x32 RGB image, with weights that are
/// neither round nor random: its outputs against onnxruntime's are in `tests/fidelity.rs`, on face crops
/// (`scripts/make-references.sh` writes it with `examples/onnx_ops_model.rs` beside the references).
pub fn ops_model() -> Vec<u8> {
    let weights =
        |n: usize, scale: f32| (0..n).map(|i| ((i * 37 + 11) % 23) as f32 / 11.0 - 1.0).map(|v| v * scale).collect();
    let pads = || attr_ints("pads", &[1, 1, 1, 1]);
    let nodes = vec![
        node("Conv", &["x", "w1", "b1"], "c1", vec![pads(), attr_ints("strides", &[2, 2])]),
        node("Relu", &["c1"], "r1", vec![]),
        // A channel shuffle, as ShuffleNet spells it.
        node("Reshape", &["r1", "split5"], "sh1", vec![]),
        node("Transpose", &["sh1"], "sh2", vec![attr_ints("perm", &[0, 2, 1, 3, 4])]),
        node("Reshape", &["sh2", "whole4"], "sh3", vec![]),
        node("Conv", &["sh3", "wg", "bg"], "g", vec![pads(), attr_int("group", 4)]),
        node("PRelu", &["g", "slope"], "p", vec![]),
        node("Tanh", &["p"], "t", vec![]),
        node("MaxPool", &["t"], "mp", vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("strides", &[2, 2]), pads()]),
        node(
            "AveragePool",
            &["mp"],
            "ap",
            vec![attr_ints("kernel_shape", &[3, 3]), pads(), attr_int("count_include_pad", 1)],
        ),
        node("Add", &["mp", "ap"], "ad", vec![]),
        node("Pad", &["ad", "pad_widths", "half"], "pd", vec![]),
        node("Slice", &["pd", "starts", "ends", "axes"], "sl", vec![]),
        NodeProto {
            op_type: "Split".into(),
            input: vec!["sl".into()],
            output: vec!["sp1".into(), "sp2".into()],
            attribute: vec![attr_int("axis", 1), attr_ints("split", &[2, 4])],
            ..Default::default()
        },
        node("ReduceMean", &["sp2"], "rm", vec![attr_ints("axes", &[1])]),
        node("Concat", &["sp1", "rm"], "cat", vec![attr_int("axis", 1)]),
        node("Sub", &["cat", "quarter"], "sb", vec![]),
        node("Transpose", &["sb"], "tr", vec![attr_ints("perm", &[0, 2, 3, 1])]),
        node("Mul", &["tr", "per_channel"], "mu", vec![]),
        node("Reshape", &["mu", "rows3"], "rs", vec![]),
        node("Softmax", &["rs"], "scores", vec![attr_int("axis", 2)]),
        node("GlobalAveragePool", &["c1"], "gp", vec![]),
        node("Flatten", &["gp"], "fl", vec![]),
        node("Gemm", &["fl", "wd", "bd"], "ge", vec![attr_int("transB", 1)]),
        node("Sigmoid", &["ge"], "gate", vec![]),
        node("ReduceMean", &["t"], "rm2", vec![attr_ints("axes", &[2, 3]), attr_int("keepdims", 0)]),
        node("Div", &["rm2", "eighths"], "mean", vec![]),
    ];
    let initializer = vec![
        floats("w1", &[8, 3, 3, 3], weights(216, 0.5)),
        floats("b1", &[8], weights(8, 0.1)),
        ints("split5", &[1, 2, 4, 16, 16]),
        ints("whole4", &[1, 8, 16, 16]),
        floats("wg", &[8, 2, 3, 3], weights(144, 0.4)),
        floats("bg", &[8], weights(8, 0.2)),
        floats("slope", &[8, 1, 1], weights(8, 0.3)),
        ints("pad_widths", &[0, 0, 1, 2, 0, 0, 1, 0]),
        TensorProto { name: "half".into(), data_type: FLOAT, float_data: vec![0.5], ..Default::default() },
        ints("starts", &[2, 1]),
        ints("ends", &[8, 9]),
        ints("axes", &[1, 2]),
        floats("quarter", &[1], vec![0.25]),
        floats("per_channel", &[3], vec![2.0, -1.0, 0.5]),
        ints("rows3", &[1, 80, 3]),
        floats("wd", &[4, 8], weights(32, 1.0)),
        floats("bd", &[4], weights(4, 0.5)),
        floats("eighths", &[8], (1..=8).map(|i| i as f32 / 8.0).collect()),
    ];
    model_with_outputs(nodes, initializer, &[1, 3, 32, 32], &["scores", "gate", "mean"])
}
