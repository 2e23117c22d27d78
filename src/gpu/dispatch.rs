//! The dispatches of one unit (`fuse`) for given shapes: the kernel and its parameters, what each binding
//! refers to, and the workgroup counts. Each op goes to its kernel family's function, in `dispatch_spatial`
//! and `dispatch_elementwise`; a fused unit to `dispatch_spatial::fused_matmul`.

use super::dispatch_elementwise::{binary, concat, pad, reduce, slice, transpose, unary};
use super::dispatch_spatial::{conv, fused_matmul, matmul, pool, resize};
use super::fuse::Unit;
use super::kernels::{pointwise, unsupported, KernelParams};
use super::params::{ActivationKind, BinaryOp, PoolOp, ReduceOp, UnaryOp};
use crate::error::Result;
use crate::model::{Activation, Graph, Node, Op, TensorId};

/// Invocations per workgroup of the one-dimensional kernels (the matmul uses 16 x 16).
const GROUP: u64 = 64;
const MAX_GROUPS: u64 = 65535;

/// What a binding of a dispatch refers to.
pub(super) enum Binding {
    Tensor(TensorId),
    /// The weights of a node (filter, biases, slopes: see `compile::upload_weights`).
    Weights(usize),
    Output,
}

/// A dispatch to make: kernel and parameters, bindings (inputs in binding order 1.., then the output at 5),
/// workgroup counts.
pub(super) struct Step {
    pub params: KernelParams,
    pub bindings: Vec<Binding>,
    pub groups: [u32; 2],
}

/// A node and the shapes of this plan.
pub(super) struct NodeShapes<'a> {
    pub index: usize,
    pub node: &'a Node,
    shapes: &'a [Vec<usize>],
    graph: &'a Graph,
}

impl NodeShapes<'_> {
    pub(super) fn input(&self, i: usize) -> &[usize] {
        &self.shapes[self.node.inputs[i]]
    }

    pub(super) fn output(&self) -> &[usize] {
        &self.shapes[self.node.output]
    }

    /// The shape of a constant input (a filter), which no plan changes.
    pub(super) fn constant_shape(&self, i: usize) -> &[usize] {
        &self.graph.tensors[self.node.inputs[i]].shape
    }

    pub(super) fn total(&self) -> usize {
        self.output().iter().product()
    }

    /// The input, then the node's weights, then the output: the convolutions.
    pub(super) fn weighted(&self) -> Vec<Binding> {
        vec![Binding::Tensor(self.node.inputs[0]), Binding::Weights(self.index), Binding::Output]
    }

    pub(super) fn one_input(&self) -> Vec<Binding> {
        vec![Binding::Tensor(self.node.inputs[0]), Binding::Output]
    }
}

/// The dispatches of one unit (none for a reshape, which shares its input's buffer).
pub(super) fn steps(graph: &Graph, unit: &Unit, shapes: &[Vec<usize>]) -> Result<Vec<Step>> {
    let shapes_of = |k: usize| NodeShapes { index: k, node: &graph.nodes[k], shapes, graph };
    match unit {
        Unit::Node(k) => node_steps(&shapes_of(*k)),
        Unit::Matmul { depthwise, matmul, add } => {
            Ok(vec![fused_matmul(depthwise.map(shapes_of).as_ref(), &shapes_of(*matmul), add.as_ref(), shapes)?])
        }
    }
}

/// The dispatches of one node alone.
fn node_steps(node: &NodeShapes) -> Result<Vec<Step>> {
    Ok(match &node.node.op {
        Op::Conv2d(c) if pointwise(c, node.constant_shape(1)) => vec![matmul(node, None)],
        Op::FullyConnected { .. } => vec![matmul(node, None)],
        Op::Conv2d(c) => vec![conv(node, c, false)?],
        Op::DepthwiseConv2d(c) => vec![conv(node, c, true)?],
        Op::Add(a) => vec![binary(node, BinaryOp::Add, *a)?],
        Op::Sub(a) => vec![binary(node, BinaryOp::Sub, *a)?],
        Op::Mul(a) => vec![binary(node, BinaryOp::Mul, *a)?],
        Op::Div(a) => vec![binary(node, BinaryOp::Div, *a)?],
        Op::Prelu => vec![binary(node, BinaryOp::Prelu, Activation::None)?],
        Op::Abs => vec![unary(node, UnaryOp::Abs, Activation::None, 0.0)],
        Op::Neg => vec![unary(node, UnaryOp::Neg, Activation::None, 0.0)],
        Op::Exp => vec![unary(node, UnaryOp::Exp, Activation::None, 0.0)],
        Op::LeakyRelu { alpha } => vec![unary(node, UnaryOp::LeakyRelu, Activation::None, *alpha)],
        Op::Activation(Activation::Prelu) => return unsupported("a PReLU without a slope"),
        Op::Activation(a) => vec![unary(node, UnaryOp::Identity, *a, 0.0)],
        Op::MaxPool2d(p) => vec![pool(node, p, PoolOp::Max)?],
        Op::AvgPool2d(p) => vec![pool(node, p, PoolOp::Average)?],
        Op::Pad { pads, value } => vec![pad(node, pads, *value)?],
        Op::Slice { starts, .. } => vec![slice(node, starts)?],
        Op::Transpose(perm) => vec![transpose(node, perm)?],
        Op::Concat { axis, activation } => concat(node, *axis, *activation),
        Op::ResizeBilinear { size, align_corners, half_pixel_centers } => {
            vec![resize(node, *size, *align_corners, *half_pixel_centers)]
        }
        Op::ReduceMax { axes, .. } => vec![reduce(node, axes, ReduceOp::Max)],
        Op::Sum { axes, .. } => vec![reduce(node, axes, ReduceOp::Sum)],
        Op::Reshape(_) | Op::Dequantize => vec![],
    })
}

pub(super) fn u(v: usize) -> u32 {
    v as u32
}

pub(super) fn activation(a: Activation) -> u32 {
    ActivationKind::from(a) as u32
}

/// Workgroups for `n` invocations of a one-dimensional kernel: the count along x, and both counts
/// (2-d once x would exceed the limit; the kernel folds them back with `flat_index`).
pub(super) fn flat(n: usize) -> (u32, [u32; 2]) {
    let groups = (n as u64).div_ceil(GROUP);
    let x = groups.min(MAX_GROUPS);
    (x as u32, [x as u32, groups.div_ceil(x) as u32])
}
