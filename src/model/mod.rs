//! The graph every backend runs: tensors, a small set of fused ops, shape inference.
//!
//! A graph comes from a `.tflite` file (`tflite`) or an `.onnx` file (`onnx`), is rewritten once at load
//! (`rewrite`), and is then only read.
//! Tensors are NHWC and f32. The batch (first) dimension of the inputs is free: shapes are inferred per run.
//!
//! # Adding an op
//!
//! 1. The graph: a variant of [`Op`] (its inputs in its doc), its name in `Op::name`, its input count in
//!    `check_arity` (run by `Graph::validate`); a fusion that keeps the values goes in `rewrite`.
//! 2. The reader: its code in `tflite/opcode.rs`, an arm of `tflite::Reader::node` calling the family's
//!    function (`tflite/conv.rs`, `pool.rs`, `elementwise.rs`, `shape_ops.rs`, or a new family file), with
//!    every option and integer input checked there (a bad one is an error, never a panic). The ONNX reader
//!    beside it (`onnx/`, `Graph::from_onnx`) builds the same `Op`s from ONNX ops, one file per op family:
//!    nothing after the readers knows the file format.
//! 3. Shape and cost in `shape.rs`: the output shape in `node_output` (refusing inputs that do not fit),
//!    and the steps per output element in `cost` where it is more than one, so that `check_cost` bounds it.
//! 4. The scalar reference kernel in `src/cpu/reference.rs`, plain and following TFLite's reference
//!    kernel, and its call in `cpu::reference_step`.
//! 5. The CPU SIMD kernel in `src/cpu/simd` (where the op is hot), called from `src/cpu/mod.rs`.
//! 6. The GPU kernel: the op's `Kernel` and its dispatch in `src/gpu/model.rs`, and its WGSL shader in
//!    `src/gpu/shaders/` (or an existing shader's mode).
//! 7. The tests: `tests/kernels.rs`, the SIMD kernel against the reference within 1e-5 x max(1, largest
//!    |value|), on odd shapes and every activation; `tests/common/gpu_cases.rs` (run by `tests/gpu.rs`
//!    and `tests/web_gpu.rs`), the GPU against the reference within 2e-5 x max(1, largest |value|);
//!    `tests/hostile.rs`, a hand-built model of the op that loads and runs (a seed in `write_fuzz_seeds`)
//!    and its bad options refused by name; and, for an op of a model this project ships, fidelity against
//!    ai-edge-litert (`scripts/make-references.py`, then `tests/fidelity.rs`).

mod flatbuf;
pub mod known;
pub mod onnx;
pub mod rewrite;
pub mod shape;
pub mod tflite;

use crate::error::{model_err, Context, Result};

pub type TensorId = usize;

/// The largest tensor any op may produce (elements), so that a size read from a file cannot ask for
/// unbounded memory: 64 Mi floats = 256 MiB, far above what the default models need at batch 64. It also
/// bounds all the values one image's run writes together (`shape::check_cost`): ten times what the
/// largest default model (full-range BlazeFace, 6.9 M) needs.
pub const MAX_ELEMENTS: usize = 1 << 26;

/// The most steps one image's run may take (`shape::cost`), so that a small file cannot declare minutes of
/// computation: 2^32, 18 times what the largest default model (MobileFaceNet, 2.4 x 10^8) needs.
pub const MAX_STEPS: u64 = 1 << 32;

/// A dense f32 tensor, row-major (NHWC for images): what flows in and out of every backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor, checking that the data fills the shape.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> crate::Result<Tensor> {
        let count = shape::element_count(&shape).map_err(|e| e.into_kind(crate::ErrorKind::Input))?;
        if count != data.len() {
            return Err(crate::Error::input(format!("{} values for a tensor of shape {shape:?}", data.len())));
        }
        Ok(Tensor { shape, data })
    }
}

/// A tensor of the graph: a name for messages, the shape the file declared and, for constants, the data.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Option<Vec<f32>>,
}

/// An activation applied to an op's output. `Prelu` takes its per-channel slope from the op's last input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    Relu6,
    ReluN1To1,
    Prelu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

/// Convolution parameters shared by CONV_2D and DEPTHWISE_CONV_2D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    pub padding: Padding,
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub activation: Activation,
}

/// Pooling parameters: filter and stride as (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub padding: Padding,
    pub filter: [usize; 2],
    pub stride: [usize; 2],
    pub activation: Activation,
}

/// The ops. Inputs are listed in the node; the comments give their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// [x NHWC, filter OHWI, bias O, (slope O)]. A missing bias in the file becomes zeros at load.
    Conv2d(Conv),
    /// [x NHWC, filter 1HWC, bias C, (slope C)]; depth multiplier 1 (checked at load).
    DepthwiseConv2d(Conv),
    /// [x (flattened to rows of the filter's width), filter [out, in], bias out, (slope out)]
    FullyConnected {
        activation: Activation,
        keep_num_dims: bool,
    },
    /// [a, b] with numpy broadcasting.
    Add(Activation),
    Sub(Activation),
    Mul(Activation),
    Div(Activation),
    Abs,
    Neg,
    Exp,
    /// [x]: the activation on its own.
    Activation(Activation),
    LeakyRelu {
        alpha: f32,
    },
    /// [x, slope] where the slope broadcasts over x.
    Prelu,
    MaxPool2d(Pool),
    AvgPool2d(Pool),
    /// Padding with `value` (0 for TFLite's PAD; the lowest float before an ONNX max pool): (before, after)
    /// per dimension.
    Pad {
        pads: Vec<[usize; 2]>,
        value: f32,
    },
    /// The part of each dimension after the batch from `starts` (as many as those dimensions) that the
    /// output's shape holds; the batch passes whole.
    Slice {
        starts: Vec<usize>,
        sizes: Vec<usize>,
    },
    /// Output dimension d is input dimension `perm[d]`; the batch stays first (`perm[0]` is 0).
    Transpose(Vec<usize>),
    /// The target shape; -1 is inferred. The batch dimension is -1 where the file kept the batch.
    Reshape(Vec<i64>),
    Concat {
        axis: usize,
        activation: Activation,
    },
    ResizeBilinear {
        size: [usize; 2],
        align_corners: bool,
        half_pixel_centers: bool,
    },
    ReduceMax {
        axes: Vec<usize>,
        keep_dims: bool,
    },
    Sum {
        axes: Vec<usize>,
        keep_dims: bool,
    },
    /// Present only before the rewrites: folded away when its input is a constant (fp16 weights).
    Dequantize,
}

impl Op {
    /// The name used in messages, in TFLite's spelling where there is one.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "CONV_2D",
            Op::DepthwiseConv2d(_) => "DEPTHWISE_CONV_2D",
            Op::FullyConnected { .. } => "FULLY_CONNECTED",
            Op::Add(_) => "ADD",
            Op::Sub(_) => "SUB",
            Op::Mul(_) => "MUL",
            Op::Div(_) => "DIV",
            Op::Abs => "ABS",
            Op::Neg => "NEG",
            Op::Exp => "EXP",
            Op::Activation(Activation::Relu) => "RELU",
            Op::Activation(Activation::Relu6) => "RELU6",
            Op::Activation(Activation::ReluN1To1) => "RELU_N1_TO_1",
            Op::Activation(_) => "ACTIVATION",
            Op::LeakyRelu { .. } => "LEAKY_RELU",
            Op::Prelu => "PRELU",
            Op::MaxPool2d(_) => "MAX_POOL_2D",
            Op::AvgPool2d(_) => "AVERAGE_POOL_2D",
            Op::Pad { .. } => "PAD",
            Op::Slice { .. } => "SLICE",
            Op::Transpose(_) => "TRANSPOSE",
            Op::Reshape(_) => "RESHAPE",
            Op::Concat { .. } => "CONCATENATION",
            Op::ResizeBilinear { .. } => "RESIZE_BILINEAR",
            Op::ReduceMax { .. } => "REDUCE_MAX",
            Op::Sum { .. } => "SUM",
            Op::Dequantize => "DEQUANTIZE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
}

/// Whether every value is finite (its exponent bits not all ones), in blocks without an early exit, which
/// the compiler turns into vector code: a batch of 32 faces is 1.2 M values, and `position(!is_finite)`
/// took a millisecond over them, a third of the GPU's whole inference.
fn all_finite(data: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    data.chunks(256).all(|block| block.iter().fold(true, |ok, v| ok & (v.to_bits() & EXPONENT != EXPONENT)))
}

/// A model: tensors, nodes in execution order, graph inputs and outputs.
#[derive(Debug, Clone)]
pub struct Graph {
    pub tensors: Vec<TensorInfo>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
}

impl Graph {
    /// Reads a `.tflite` file and applies the load-time rewrites.
    pub fn from_tflite(bytes: &[u8]) -> Result<Graph> {
        Graph::prepared(tflite::read(bytes)?)
    }

    /// Reads a model file of either format: TFLite where it has TFLite's identifier, else ONNX.
    pub fn from_model_file(bytes: &[u8]) -> Result<Graph> {
        if bytes.get(4..8) == Some(&b"TFL3"[..]) {
            return Graph::from_tflite(bytes);
        }
        Graph::from_onnx(bytes).context("no TFLite identifier (TFL3), and as ONNX")
    }

    /// Reads an `.onnx` file (see `onnx`: NCHW converted to NHWC) and applies the load-time rewrites.
    pub fn from_onnx(bytes: &[u8]) -> Result<Graph> {
        Graph::prepared(onnx::read(bytes)?)
    }

    /// What every reader's graph goes through: the load-time rewrites, the structural checks, the cost bound.
    fn prepared(mut graph: Graph) -> Result<Graph> {
        rewrite::optimize(&mut graph);
        graph.validate()?;
        shape::check_cost(&graph)?;
        Ok(graph)
    }

    /// Checks inputs before any backend runs them: each holds the values its shape says, all finite (a NaN
    /// would only come back as NaN outputs, far from the cause). Shapes are checked by `shape::infer`.
    pub fn check_inputs(&self, inputs: &[Tensor]) -> crate::Result<()> {
        for (k, t) in inputs.iter().enumerate() {
            if t.data.len() != shape::element_count(&t.shape).map_err(|e| e.into_kind(crate::ErrorKind::Input))? {
                return Err(crate::Error::input(format!(
                    "{} values for an input of shape {:?}",
                    t.data.len(),
                    t.shape
                )));
            }
            if !all_finite(&t.data) {
                let i = t.data.iter().position(|v| !v.is_finite()).unwrap_or_default();
                return Err(crate::Error::input(format!("input {k} holds a NaN or infinite value (at {i})")));
            }
        }
        Ok(())
    }

    pub fn constant(&self, id: TensorId) -> Option<&[f32]> {
        self.tensors[id].data.as_deref()
    }

    /// How many nodes read each tensor (graph outputs count as a reader).
    pub fn reader_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.tensors.len()];
        for node in &self.nodes {
            for &i in &node.inputs {
                counts[i] += 1;
            }
        }
        for &o in &self.outputs {
            counts[o] += 1;
        }
        counts
    }

    /// Checks the structure: ids in range, every input defined before it is read, ops with the inputs they need.
    pub fn validate(&self) -> Result<()> {
        let n = self.tensors.len();
        let mut defined = vec![false; n];
        for &i in &self.inputs {
            if i >= n {
                return model_err(format!("graph input {i} is not a tensor"));
            }
            if self.tensors[i].data.is_some() || self.tensors[i].shape.is_empty() {
                return model_err(format!(
                    "graph input '{}' is a constant or has no batch dimension",
                    self.tensors[i].name
                ));
            }
            defined[i] = true;
        }
        for (t, info) in self.tensors.iter().enumerate() {
            if let Some(data) = &info.data {
                let count = shape::element_count(&info.shape)?;
                if count != data.len() {
                    return model_err(format!(
                        "constant '{}' has {} values for shape {:?}",
                        info.name,
                        data.len(),
                        info.shape
                    ));
                }
                defined[t] = true;
            }
        }
        for (k, node) in self.nodes.iter().enumerate() {
            for &i in &node.inputs {
                if i >= n || !defined[i] {
                    return model_err(format!(
                        "node {k} ({}) reads tensor {i} before anything writes it",
                        node.op.name()
                    ));
                }
            }
            if node.output >= n || defined[node.output] {
                return model_err(format!(
                    "node {k} ({}) writes tensor {} that is already defined",
                    node.op.name(),
                    node.output
                ));
            }
            check_arity(self, node)?;
            defined[node.output] = true;
        }
        for &o in &self.outputs {
            if o >= n || !defined[o] {
                return model_err(format!("graph output {o} is never written"));
            }
        }
        if self.inputs.is_empty() || self.outputs.is_empty() {
            return model_err("graph has no inputs or no outputs");
        }
        Ok(())
    }
}

/// Each op's input count, and which inputs must be constants (weights) with which rank.
fn check_arity(graph: &Graph, node: &Node) -> Result<()> {
    let has_slope = |a: Activation| usize::from(a == Activation::Prelu);
    let (min, max) = match &node.op {
        Op::Conv2d(c) | Op::DepthwiseConv2d(c) => (3 + has_slope(c.activation), 3 + has_slope(c.activation)),
        Op::FullyConnected { activation, .. } => (3 + has_slope(*activation), 3 + has_slope(*activation)),
        Op::Add(_) | Op::Sub(_) | Op::Mul(_) | Op::Div(_) | Op::Prelu => (2, 2),
        Op::Concat { .. } => (1, usize::MAX),
        _ => (1, 1),
    };
    let count = node.inputs.len();
    if count < min || count > max {
        return model_err(format!("{} has {count} inputs", node.op.name()));
    }
    let weight_rank = match &node.op {
        Op::Conv2d(_) | Op::DepthwiseConv2d(_) => Some(4),
        Op::FullyConnected { .. } => Some(2),
        _ => None,
    };
    if let Some(rank) = weight_rank {
        let w = &graph.tensors[node.inputs[1]];
        if w.data.is_none() || w.shape.len() != rank {
            return model_err(format!("{}: filter '{}' must be a constant of rank {rank}", node.op.name(), w.name));
        }
        let out_channels = if matches!(node.op, Op::DepthwiseConv2d(_)) { w.shape[3] } else { w.shape[0] };
        let per_channel = &node.inputs[2..];
        // The bias has one value per channel; a PReLU slope may also be one value for all (the kernels index
        // the bias by channel: a 1-value bias on 2 channels was a panic, found by fuzzing).
        for (i, &extra) in per_channel.iter().enumerate() {
            let t = &graph.tensors[extra];
            match &t.data {
                Some(d) if d.len() == out_channels || (i == 1 && d.len() == 1) => {}
                _ => {
                    return model_err(format!(
                        "{}: bias or slope '{}' must be a constant of {out_channels} values",
                        node.op.name(),
                        t.name
                    ))
                }
            }
        }
    }
    Ok(())
}
