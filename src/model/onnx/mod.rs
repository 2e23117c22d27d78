//! The ONNX reader: a `.onnx` file (protobuf, decoded by prost from `proto.rs`) into the same `Graph` as the
//! TFLite reader builds, so that nothing after it knows the file format.
//!
//! ONNX is NCHW; the graph is NHWC. Every 4-D tensor of the graph is kept NHWC, and the reader tracks each
//! ONNX value's own (NCHW) shape to convert attributes and weights: convolution filters OIHW become OHWI
//! (depthwise: 1HWC), constants that broadcast against a 4-D tensor are transposed too, and the graph's 4-D
//! inputs and outputs are NHWC. Shapes are static: the ONNX input shape (a symbolic batch is 1) is followed
//! through every op at load, which folds the constant shape subgraphs (Shape, Gather, Unsqueeze, Concat into
//! Reshape). BatchNormalization is folded into the convolution or matrix product before it. An op that is
//! not supported is named in the error. Ops by family: `conv.rs` (Conv, BatchNormalization, MatMul, Gemm,
//! pooling), `elementwise.rs` (Add, Sub, Mul, Div, Relu, PRelu, Sigmoid), `shape_ops.rs` (Shape, Gather,
//! Unsqueeze, Concat, Constant, Reshape, Flatten).

mod conv;
mod elementwise;
pub mod proto;
mod shape_ops;

use super::{shape, Graph, Node, Op, TensorId, TensorInfo};
use crate::error::{model_err, Result};
use std::collections::HashMap;

/// The opset versions whose ops this reader follows (the attribute forms of opset 9 to 13).
const OPSETS: std::ops::RangeInclusive<i64> = 7..=13;

/// What an ONNX name stands for while reading.
#[derive(Debug, Clone)]
enum Value {
    /// A tensor of the graph (NHWC when 4-D), with its ONNX shape.
    Tensor { id: TensorId, shape: Vec<usize> },
    /// A float constant, in ONNX layout.
    Floats { shape: Vec<usize>, data: Vec<f32> },
    /// An integer constant: shapes and indices, folded at load.
    Ints { shape: Vec<usize>, data: Vec<i64> },
}

/// The reader's state: the graph so far and what each ONNX name stands for.
struct Reader {
    graph: Graph,
    values: HashMap<String, Value>,
    /// How many nodes (and graph outputs) read each ONNX name: a fold into a producer needs it to be the
    /// only reader.
    readers: HashMap<String, usize>,
    /// Which graph node wrote each tensor.
    producer: HashMap<TensorId, usize>,
}

/// Reads an ONNX model into a graph (before the load-time rewrites).
pub fn read(bytes: &[u8]) -> Result<Graph> {
    let model = proto::decode(bytes).map_err(|e| crate::Error::model(format!("not an ONNX model: {e}")))?;
    let opset = model.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx");
    match opset {
        Some(o) if OPSETS.contains(&o.version) => {}
        Some(o) => return model_err(format!("ONNX opset {} (this reader takes {OPSETS:?})", o.version)),
        None => return model_err("not an ONNX model: no default-domain opset"),
    }
    let Some(g) = model.graph else { return model_err("ONNX model has no graph") };
    let mut reader = Reader {
        graph: Graph { tensors: Vec::new(), nodes: Vec::new(), inputs: Vec::new(), outputs: Vec::new() },
        values: HashMap::new(),
        readers: HashMap::new(),
        producer: HashMap::new(),
    };
    for node in &g.node {
        for name in node.input.iter().filter(|n| !n.is_empty()) {
            *reader.readers.entry(name.clone()).or_default() += 1;
        }
    }
    for out in &g.output {
        *reader.readers.entry(out.name.clone()).or_default() += 1;
    }
    for t in &g.initializer {
        let value = constant_value(t)?;
        reader.values.insert(t.name.clone(), value);
    }
    for input in &g.input {
        // Older files list their initializers among the inputs too.
        if !reader.values.contains_key(&input.name) {
            reader.graph_input(input)?;
        }
    }
    for (k, node) in g.node.iter().enumerate() {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return model_err(format!("ONNX node {k} ({}) is in domain '{}'", node.op_type, node.domain));
        }
        reader.node(node).map_err(|e| e.context(format!("ONNX node {k} ({} '{}')", node.op_type, node.name)))?;
    }
    for out in &g.output {
        match reader.values.get(&out.name) {
            Some(Value::Tensor { id, .. }) => reader.graph.outputs.push(*id),
            _ => return model_err(format!("ONNX output '{}' is not computed by the graph", out.name)),
        }
    }
    Ok(reader.graph)
}

/// A float or integer initializer or Constant value, its size checked against its data.
fn constant_value(t: &proto::TensorProto) -> Result<Value> {
    if t.data_location == 1 {
        return model_err(format!("ONNX tensor '{}' keeps its data in another file", t.name));
    }
    let shape = dims(&t.dims, &t.name)?;
    let count = shape::element_count(&shape)?;
    let raw = |width: usize| -> Result<&[u8]> {
        if t.raw_data.len() != count * width {
            return model_err(format!("ONNX tensor '{}' has {} bytes for shape {shape:?}", t.name, t.raw_data.len()));
        }
        Ok(&t.raw_data)
    };
    let value = match t.data_type {
        proto::FLOAT if !t.raw_data.is_empty() || count == 0 => {
            let data = raw(4)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            Value::Floats { shape, data }
        }
        proto::FLOAT => Value::Floats { data: exactly(t.float_data.clone(), count, &t.name)?, shape },
        proto::INT64 if !t.raw_data.is_empty() || count == 0 => {
            let data = raw(8)?.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
            Value::Ints { shape, data }
        }
        proto::INT64 => Value::Ints { data: exactly(t.int64_data.clone(), count, &t.name)?, shape },
        other => return model_err(format!("ONNX tensor '{}' has data type {other} (float32 or int64 only)", t.name)),
    };
    Ok(value)
}

/// `values` when there are `count` of them.
fn exactly<T>(values: Vec<T>, count: usize, name: &str) -> Result<Vec<T>> {
    if values.len() != count {
        return model_err(format!("ONNX tensor '{name}' has {} values for {count} elements", values.len()));
    }
    Ok(values)
}

/// Dimensions read from the file, each at least 0 and their product bounded.
fn dims(dims: &[i64], name: &str) -> Result<Vec<usize>> {
    let shape: Vec<usize> = dims
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| crate::Error::model(format!("ONNX tensor '{name}' has dimension {d}")))
        })
        .collect::<Result<_>>()?;
    shape::element_count(&shape)?;
    Ok(shape)
}

/// The NHWC shape of an ONNX (NCHW) shape: 4-D shapes are reordered, others kept.
fn nhwc(shape: &[usize]) -> Vec<usize> {
    match *shape {
        [n, c, h, w] => vec![n, h, w, c],
        _ => shape.to_vec(),
    }
}

/// A 4-D constant from NCHW to NHWC order; others as they are.
fn nhwc_data(shape: &[usize], data: &[f32]) -> Vec<f32> {
    let [n, c, h, w] = *shape else { return data.to_vec() };
    let mut out = vec![0.0; data.len()];
    for (i, v) in data.iter().enumerate() {
        let (b, ch, y, x) = (i / (c * h * w), i / (h * w) % c, i / w % h, i % w);
        out[((b * h + y) * w + x) * c + ch] = *v;
    }
    debug_assert_eq!(n * c * h * w, data.len());
    out
}

impl Reader {
    /// A graph input: its ONNX shape (a symbolic or missing batch is 1), NHWC in the graph.
    fn graph_input(&mut self, input: &proto::ValueInfoProto) -> Result<()> {
        let tensor = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
        let Some(tensor) = tensor.filter(|t| t.elem_type == proto::FLOAT) else {
            return model_err(format!("ONNX input '{}' is not a float32 tensor", input.name));
        };
        let dims = tensor.shape.as_ref().map(|s| &s.dim[..]).unwrap_or_default();
        let mut shape = Vec::with_capacity(dims.len());
        for (k, d) in dims.iter().enumerate() {
            match (k, d.dim_value) {
                (0, v) if v <= 0 => shape.push(1),
                (_, v) if v > 0 => shape.push(v as usize),
                _ => return model_err(format!("ONNX input '{}' has no fixed size in dimension {k}", input.name)),
            }
        }
        if shape.is_empty() {
            return model_err(format!("ONNX input '{}' has no shape", input.name));
        }
        shape::element_count(&shape)?;
        let id = self.tensor(&input.name, nhwc(&shape), None);
        self.graph.inputs.push(id);
        self.values.insert(input.name.clone(), Value::Tensor { id, shape });
        Ok(())
    }

    /// A new tensor of the graph.
    fn tensor(&mut self, name: &str, shape: Vec<usize>, data: Option<Vec<f32>>) -> TensorId {
        self.graph.tensors.push(TensorInfo { name: name.to_string(), shape, data });
        self.graph.tensors.len() - 1
    }

    /// A node writing the ONNX value `name` (ONNX shape `shape`, NHWC in the graph when 4-D).
    fn emit(&mut self, op: Op, inputs: Vec<TensorId>, name: &str, shape: Vec<usize>) -> TensorId {
        let output = self.tensor(name, nhwc(&shape), None);
        self.graph.nodes.push(Node { op, inputs, output });
        self.producer.insert(output, self.graph.nodes.len() - 1);
        self.values.insert(name.to_string(), Value::Tensor { id: output, shape });
        output
    }

    /// What a node's `k`th input stands for.
    fn value(&self, node: &proto::NodeProto, k: usize) -> Result<&Value> {
        let Some(name) = node.input.get(k).filter(|n| !n.is_empty()) else {
            return model_err(format!("input {k} is missing"));
        };
        self.values.get(name).ok_or_else(|| crate::Error::model(format!("input '{name}' is not defined before")))
    }

    /// A node's `k`th input as a tensor of the graph, with its ONNX shape.
    fn tensor_input(&self, node: &proto::NodeProto, k: usize) -> Result<(TensorId, Vec<usize>)> {
        match self.value(node, k)? {
            Value::Tensor { id, shape } => Ok((*id, shape.clone())),
            _ => model_err(format!("input {k} is a constant where a computed tensor is expected")),
        }
    }

    /// A node's `k`th input as a float constant (ONNX layout), or None when it is absent.
    fn floats(&self, node: &proto::NodeProto, k: usize) -> Result<Option<(Vec<usize>, Vec<f32>)>> {
        if node.input.get(k).is_none_or(|n| n.is_empty()) {
            return Ok(None);
        }
        match self.value(node, k)? {
            Value::Floats { shape, data } => Ok(Some((shape.clone(), data.clone()))),
            _ => model_err(format!("input {k} must be a float constant")),
        }
    }

    /// The node's single output name.
    fn output<'a>(&self, node: &'a proto::NodeProto) -> Result<&'a str> {
        match node.output.first() {
            Some(name) if !name.is_empty() => Ok(name),
            _ => model_err("no output"),
        }
    }

    fn node(&mut self, node: &proto::NodeProto) -> Result<()> {
        match node.op_type.as_str() {
            "Conv" => self.conv(node),
            "BatchNormalization" => self.batch_norm(node),
            "MatMul" | "Gemm" => self.dense(node),
            "GlobalAveragePool" | "MaxPool" | "AveragePool" => self.pool(node),
            "Add" | "Sub" | "Mul" | "Div" => self.binary(node),
            "Relu" | "PRelu" | "Sigmoid" => self.activation(node),
            "Shape" | "Gather" | "Unsqueeze" | "Concat" | "Constant" => self.shape_op(node),
            "Reshape" | "Flatten" => self.reshape(node),
            other => model_err(format!("the ONNX op {other} is not supported")),
        }
    }
}

/// An integer attribute, or `default`.
fn attr_int(node: &proto::NodeProto, name: &str, default: i64) -> i64 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.i)
}

/// A float attribute, or `default`.
fn attr_float(node: &proto::NodeProto, name: &str, default: f32) -> f32 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.f)
}

/// A list-of-integers attribute, or None.
fn attr_ints<'a>(node: &'a proto::NodeProto, name: &str) -> Option<&'a [i64]> {
    node.attribute.iter().find(|a| a.name == name).map(|a| &a.ints[..])
}

/// A string attribute, or "".
fn attr_str<'a>(node: &'a proto::NodeProto, name: &str) -> &'a [u8] {
    node.attribute.iter().find(|a| a.name == name).map_or(&[][..], |a| &a.s[..])
}
