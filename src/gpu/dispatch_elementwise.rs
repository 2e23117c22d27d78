//! Dispatches of the kernels over flat or rank-4 indices: elementwise binary ops (with broadcasting) and
//! unary ones, rearranging copies (padding, slicing, transposing), the parts of a concatenation, and
//! reductions.

use super::dispatch::{activation, flat, u, Binding, NodeShapes, Step};
use super::kernels::{unsupported, KernelParams};
use super::params::{
    BinaryOp, BinaryParams, CopyParams, RearrangeParams, ReduceOp, ReduceParams, UnaryOp, UnaryParams,
};
use crate::error::Result;
use crate::model::shape::strides;
use crate::model::Activation;

pub(super) fn binary(node: &NodeShapes, op: BinaryOp, act: Activation) -> Result<Step> {
    let [dim0, dim1, dim2, dim3] = u4(dims4(node.output())?);
    let [a_stride0, a_stride1, a_stride2, a_stride3] = u4(broadcast_strides(node.input(0), node.output())?);
    let [b_stride0, b_stride1, b_stride2, b_stride3] = u4(broadcast_strides(node.input(1), node.output())?);
    let (groups_x, groups) = flat(node.total());
    let params = BinaryParams {
        total: u(node.total()),
        groups_x,
        op: op as u32,
        activation: activation(act),
        dim0,
        dim1,
        dim2,
        dim3,
        a_stride0,
        a_stride1,
        a_stride2,
        a_stride3,
        b_stride0,
        b_stride1,
        b_stride2,
        b_stride3,
    };
    let bindings = vec![Binding::Tensor(node.node.inputs[0]), Binding::Tensor(node.node.inputs[1]), Binding::Output];
    Ok(Step { params: KernelParams::Binary(params), bindings, groups })
}

pub(super) fn unary(node: &NodeShapes, op: UnaryOp, act: Activation, alpha: f32) -> Step {
    let (groups_x, groups) = flat(node.total());
    let params = UnaryParams {
        total: u(node.total()),
        groups_x,
        op: op as u32,
        activation: activation(act),
        alpha,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    Step { params: KernelParams::Unary(params), bindings: node.one_input(), groups }
}

/// Padding with `value`: each output coordinate reads the input's, less the padding before.
pub(super) fn pad(node: &NodeShapes, pads: &[[usize; 2]], value: f32) -> Result<Step> {
    let xs = node.input(0);
    let view = View {
        out_dims: node.output().to_vec(),
        src_strides: strides(xs),
        src_dims: xs.to_vec(),
        offsets: pads.iter().map(|p| p[0] as i64).collect(),
    };
    rearrange(node, view, value)
}

/// A slice: each output coordinate reads the input's from the start (the batch from 0).
pub(super) fn slice(node: &NodeShapes, starts: &[usize]) -> Result<Step> {
    let xs = node.input(0);
    let view = View {
        out_dims: node.output().to_vec(),
        src_strides: strides(xs),
        src_dims: xs.to_vec(),
        offsets: std::iter::once(0).chain(starts.iter().map(|&s| -(s as i64))).collect(),
    };
    rearrange(node, view, 0.0)
}

/// A transposition: output dimension d reads at the input's stride along `perm[d]`. Input dimensions that
/// stay together, in order, are merged first (a channel shuffle's five dimensions become three).
pub(super) fn transpose(node: &NodeShapes, perm: &[usize]) -> Result<Step> {
    let (dims, perm) = crate::model::shape::merged_transpose(node.input(0), perm);
    let in_strides = strides(&dims);
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let view = View {
        src_strides: perm.iter().map(|&p| in_strides[p]).collect(),
        src_dims: out_dims.clone(),
        out_dims,
        offsets: vec![0; perm.len()],
    };
    rearrange(node, view, 0.0)
}

/// What the rearrange kernel reads for each output dimension (see `RearrangeParams`).
struct View {
    out_dims: Vec<usize>,
    src_strides: Vec<usize>,
    src_dims: Vec<usize>,
    offsets: Vec<i64>,
}

fn rearrange(node: &NodeShapes, view: View, value: f32) -> Result<Step> {
    let rank = view.out_dims.len();
    if rank > 4 || view.offsets.iter().any(|o| i32::try_from(*o).is_err()) {
        return unsupported(format!("rearranging a tensor of rank {rank} (4 at most after merging)"));
    }
    // Padded on the left: a dimension of one, read at offset 0.
    let left = |v: &[usize], fill: usize| -> [u32; 4] {
        let mut out = [fill; 4];
        out[4 - rank..].copy_from_slice(v);
        u4(out)
    };
    let [out_dim0, out_dim1, out_dim2, out_dim3] = left(&view.out_dims, 1);
    let [src_stride0, src_stride1, src_stride2, src_stride3] = left(&view.src_strides, 0);
    let [src_dim0, src_dim1, src_dim2, src_dim3] = left(&view.src_dims, 1);
    let mut offsets = [0i32; 4];
    for (o, v) in offsets[4 - rank..].iter_mut().zip(&view.offsets) {
        *o = *v as i32;
    }
    let [offset0, offset1, offset2, offset3] = offsets;
    let (groups_x, groups) = flat(node.total());
    let params = RearrangeParams {
        total: u(node.total()),
        groups_x,
        out_dim0,
        out_dim1,
        out_dim2,
        out_dim3,
        src_stride0,
        src_stride1,
        src_stride2,
        src_stride3,
        src_dim0,
        src_dim1,
        src_dim2,
        src_dim3,
        offset0,
        offset1,
        offset2,
        offset3,
        value,
        _pad0: 0,
    };
    Ok(Step { params: KernelParams::Rearrange(params), bindings: node.one_input(), groups })
}

/// One copy per input, each into its place along the axis.
pub(super) fn concat(node: &NodeShapes, axis: usize, act: Activation) -> Vec<Step> {
    let out = node.output();
    let outer: usize = out[..axis].iter().product();
    let inner: usize = out[axis + 1..].iter().product();
    let mut offset = 0;
    let mut steps = Vec::new();
    for (i, &input) in node.node.inputs.iter().enumerate() {
        let part = node.input(i)[axis];
        let n = outer * part * inner;
        let (groups_x, groups) = flat(n);
        let params = CopyParams {
            total: u(n),
            groups_x,
            part: u(part),
            inner: u(inner),
            whole: u(out[axis]),
            offset: u(offset),
            activation: activation(act),
            _pad0: 0,
        };
        steps.push(Step {
            params: KernelParams::ConcatCopy(params),
            bindings: vec![Binding::Tensor(input), Binding::Output],
            groups,
        });
        offset += part;
    }
    steps
}

/// A reduction over adjacent axes (checked at compile time): the input as [outer, reduced, inner].
pub(super) fn reduce(node: &NodeShapes, axes: &[usize], op: ReduceOp) -> Step {
    let xs = node.input(0);
    let (first, last) = (*axes.iter().min().unwrap_or(&0), *axes.iter().max().unwrap_or(&0));
    let outer: usize = xs[..first].iter().product();
    let reduced: usize = xs[first..=last].iter().product();
    let inner: usize = xs[last + 1..].iter().product();
    let (groups_x, groups) = flat(outer * inner);
    let params = ReduceParams {
        total: u(outer * inner),
        groups_x,
        reduced: u(reduced),
        inner: u(inner),
        op: op as u32,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    Step { params: KernelParams::Reduce(params), bindings: node.one_input(), groups }
}

fn u4(v: [usize; 4]) -> [u32; 4] {
    v.map(u)
}

/// A shape of rank <= 4 padded with ones on the left.
fn dims4(s: &[usize]) -> Result<[usize; 4]> {
    if s.len() > 4 {
        return unsupported(format!("a tensor of rank {}", s.len()));
    }
    let mut d = [1usize; 4];
    d[4 - s.len()..].copy_from_slice(s);
    Ok(d)
}

/// The strides to read `s` broadcast onto `out` (zero along broadcast dimensions), padded to rank 4.
fn broadcast_strides(s: &[usize], out: &[usize]) -> Result<[usize; 4]> {
    let (d, o) = (dims4(s)?, dims4(out)?);
    let mut strides = [0usize; 4];
    let mut step = 1;
    for i in (0..4).rev() {
        strides[i] = if d[i] == 1 && o[i] != 1 { 0 } else { step };
        step *= d[i];
    }
    Ok(strides)
}
