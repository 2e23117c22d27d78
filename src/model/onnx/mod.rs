//! The ONNX reader: a `.onnx` file (protobuf, decoded by prost from `proto.rs`) into the same `Graph` as the
//! TFLite reader builds, so that nothing after it knows the file format.
//!
//! ONNX is NCHW; the graph is NHWC. The reader tracks each ONNX value's own shape and the order in which the
//! graph keeps its dimensions (`order`): a 4-D value comes out of a convolution NHWC, and an op that only
//! moves values (a Transpose, most Reshapes) changes that order instead of the data, so that ONNX's
//! NCHW-to-NHWC transpositions before a detector's heads cost nothing. An op that needs another order gets
//! a TRANSPOSE before it (`arranged`): the convolutions, pooling and per-channel ops take 4-D values NHWC
//! (the natural order), the graph's outputs are natural too. Weights follow: filters OIHW become OHWI
//! (depthwise: 1HWC), constants are laid out in the order of the tensor they meet. Shapes are static: the
//! ONNX input shape (a symbolic batch is 1) is followed through every op at load, which folds the constant
//! shape subgraphs (Shape, Gather, Unsqueeze, Concat into Reshape). BatchNormalization is folded into the
//! convolution or matrix product before it. An op that is not supported is named in the error. Ops by
//! family: `conv.rs` (Conv, grouped too, BatchNormalization, MatMul, Gemm, pooling), `elementwise.rs` (Add,
//! Sub, Mul, Div, Relu, Exp, Neg, Abs, PRelu, Sigmoid, Tanh, Softmax, ReduceMean), `shape_ops.rs` (Shape, Gather,
//! Unsqueeze, Concat, Constant, Reshape, Flatten), `movement.rs` (Transpose, Slice, Split, Pad).

mod conv;
mod elementwise;
mod movement;
pub mod proto;
mod shape_ops;

use super::shape::strides;
use super::{shape, Graph, Node, Op, TensorId, TensorInfo};
use crate::error::{model_err, Result};
use std::collections::HashMap;

/// The opset versions whose ops this reader follows (the attribute forms of opset 9 to 13).
const OPSETS: std::ops::RangeInclusive<i64> = 7..=13;

/// What an ONNX name stands for while reading.
#[derive(Debug, Clone)]
enum Value {
    /// A tensor of the graph, with its ONNX shape: the graph's dimension k is the ONNX dimension
    /// `order[k]` (the batch first).
    Tensor { id: TensorId, shape: Vec<usize>, order: Vec<usize> },
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
    /// The TRANSPOSE (or RESHAPE) already made of a tensor by a permutation of the graph's dimensions.
    arranged: HashMap<(TensorId, Vec<usize>), TensorId>,
    /// The model's opset version (Softmax, Split, Slice and Pad changed their form with it).
    opset: i64,
}

/// Reads an ONNX model into a graph (before the load-time rewrites).
pub fn read(bytes: &[u8]) -> Result<Graph> {
    let model = proto::decode(bytes).map_err(|e| crate::Error::model(format!("not an ONNX model: {e}")))?;
    let opset = model.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx");
    let opset = match opset {
        Some(o) if OPSETS.contains(&o.version) => o.version,
        Some(o) => return model_err(format!("ONNX opset {} (this reader takes {OPSETS:?})", o.version)),
        None => return model_err("not an ONNX model: no default-domain opset"),
    };
    let Some(g) = model.graph else { return model_err("ONNX model has no graph") };
    let mut reader = Reader {
        graph: Graph { tensors: Vec::new(), nodes: Vec::new(), inputs: Vec::new(), outputs: Vec::new() },
        values: HashMap::new(),
        readers: HashMap::new(),
        producer: HashMap::new(),
        arranged: HashMap::new(),
        opset,
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
        let id = match reader.values.get(&out.name).cloned() {
            Some(Value::Tensor { id, shape, order }) => reader.arranged(id, &shape, &order, &natural(shape.len())),
            _ => return model_err(format!("ONNX output '{}' is not computed by the graph", out.name)),
        };
        reader.graph.outputs.push(id);
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

/// The order the graph keeps a value of this rank in where an op needs one: NHWC for 4-D (what the
/// convolutions take), the ONNX order otherwise.
fn natural(rank: usize) -> Vec<usize> {
    if rank == 4 {
        vec![0, 2, 3, 1]
    } else {
        (0..rank).collect()
    }
}

/// The graph's shape of an ONNX shape kept in `order`.
fn physical(shape: &[usize], order: &[usize]) -> Vec<usize> {
    order.iter().map(|&a| shape[a]).collect()
}

/// A constant of ONNX shape `shape` laid out in `order`.
fn ordered_data(shape: &[usize], data: &[f32], order: &[usize]) -> Vec<f32> {
    if order.iter().enumerate().all(|(k, &a)| k == a) {
        return data.to_vec();
    }
    let (from, to) = (strides(shape), strides(&physical(shape, order)));
    let mut out = vec![0.0; data.len()];
    for (i, v) in data.iter().enumerate() {
        let at: usize = order.iter().enumerate().map(|(k, &a)| i / from[a] % shape[a] * to[k]).sum();
        out[at] = *v;
    }
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
        let order = natural(shape.len());
        let id = self.tensor(&input.name, physical(&shape, &order), None);
        self.graph.inputs.push(id);
        self.values.insert(input.name.clone(), Value::Tensor { id, shape, order });
        Ok(())
    }

    /// A new tensor of the graph.
    fn tensor(&mut self, name: &str, shape: Vec<usize>, data: Option<Vec<f32>>) -> TensorId {
        self.graph.tensors.push(TensorInfo { name: name.to_string(), shape, data });
        self.graph.tensors.len() - 1
    }

    /// A node writing the ONNX value `name` (ONNX shape `shape`) in the natural order.
    fn emit(&mut self, op: Op, inputs: Vec<TensorId>, name: &str, shape: Vec<usize>) -> TensorId {
        let order = natural(shape.len());
        self.emit_in(op, inputs, name, shape, order)
    }

    /// A node writing the ONNX value `name` (ONNX shape `shape`), its dimensions in `order`.
    fn emit_in(&mut self, op: Op, inputs: Vec<TensorId>, name: &str, shape: Vec<usize>, order: Vec<usize>) -> TensorId {
        let output = self.tensor(name, physical(&shape, &order), None);
        self.graph.nodes.push(Node { op, inputs, output });
        self.producer.insert(output, self.graph.nodes.len() - 1);
        self.values.insert(name.to_string(), Value::Tensor { id: output, shape, order });
        output
    }

    /// Tensor `id` (ONNX shape `shape`, kept in order `from`) kept in order `to`: itself, a RESHAPE where
    /// only dimensions of one move, else a TRANSPOSE (each made once per tensor and permutation).
    fn arranged(&mut self, id: TensorId, shape: &[usize], from: &[usize], to: &[usize]) -> TensorId {
        if from == to {
            return id;
        }
        let perm: Vec<usize> = to.iter().map(|a| from.iter().position(|f| f == a).expect("a permutation")).collect();
        if let Some(&done) = self.arranged.get(&(id, perm.clone())) {
            return done;
        }
        let big = |order: &[usize]| order.iter().copied().filter(|&a| shape[a] != 1).collect::<Vec<_>>();
        let out_shape = physical(shape, to);
        let op = if big(from) == big(to) {
            let mut target: Vec<i64> = out_shape.iter().map(|&d| d as i64).collect();
            target[0] = -1;
            Op::Reshape(target)
        } else {
            Op::Transpose(perm.clone())
        };
        let name = format!("{}/{}", self.graph.tensors[id].name, op.name().to_lowercase());
        let output = self.tensor(&name, out_shape, None);
        self.graph.nodes.push(Node { op, inputs: vec![id], output });
        self.producer.insert(output, self.graph.nodes.len() - 1);
        self.arranged.insert((id, perm), output);
        output
    }

    /// What a node's `k`th input stands for.
    fn value(&self, node: &proto::NodeProto, k: usize) -> Result<&Value> {
        let Some(name) = node.input.get(k).filter(|n| !n.is_empty()) else {
            return model_err(format!("input {k} is missing"));
        };
        self.values.get(name).ok_or_else(|| crate::Error::model(format!("input '{name}' is not defined before")))
    }

    /// A node's `k`th input as a tensor of the graph in the natural order, with its ONNX shape.
    fn tensor_input(&mut self, node: &proto::NodeProto, k: usize) -> Result<(TensorId, Vec<usize>)> {
        let (id, shape, order) = self.tensor_as_is(node, k)?;
        let id = self.arranged(id, &shape, &order, &natural(shape.len()));
        Ok((id, shape))
    }

    /// A node's `k`th input as a tensor of the graph in the order it is kept in: its ONNX shape and order.
    fn tensor_as_is(&self, node: &proto::NodeProto, k: usize) -> Result<(TensorId, Vec<usize>, Vec<usize>)> {
        match self.value(node, k)? {
            Value::Tensor { id, shape, order } => Ok((*id, shape.clone(), order.clone())),
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
            "Relu" | "Exp" | "Neg" | "Abs" | "PRelu" | "Sigmoid" | "Tanh" => self.activation(node),
            "Softmax" => self.softmax(node),
            "ReduceMean" => self.reduce_mean(node),
            "Transpose" => self.transpose(node),
            "Slice" => self.slice(node),
            "Split" => self.split(node),
            "Pad" => self.pad(node),
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
