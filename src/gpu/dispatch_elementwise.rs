//! Dispatches of the kernels over flat or rank-4 indices: elementwise binary ops (with broadcasting) and
//! unary ones, zero padding, the parts of a concatenation, and reductions.

use super::dispatch::{activation, flat, u, Binding, NodeShapes, Step};
use super::kernels::{unsupported, KernelParams};
use super::params::{BinaryOp, BinaryParams, CopyParams, PadParams, ReduceOp, ReduceParams, UnaryOp, UnaryParams};
use crate::error::Result;
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

pub(super) fn pad(node: &NodeShapes, pads: &[[usize; 2]]) -> Result<Step> {
    if pads.len() > 4 {
        return unsupported("padding a tensor of rank above 4");
    }
    let lead = 4 - pads.len();
    let mut before = [0usize; 4];
    for (d, p) in pads.iter().enumerate() {
        before[lead + d] = p[0];
    }
    let [out_dim0, out_dim1, out_dim2, out_dim3] = u4(dims4(node.output())?);
    let [in_dim0, in_dim1, in_dim2, in_dim3] = u4(dims4(node.input(0))?);
    let [before0, before1, before2, before3] = u4(before);
    let (groups_x, groups) = flat(node.total());
    let params = PadParams {
        total: u(node.total()),
        groups_x,
        out_dim0,
        out_dim1,
        out_dim2,
        out_dim3,
        in_dim0,
        in_dim1,
        in_dim2,
        in_dim3,
        before0,
        before1,
        before2,
        before3,
        _pad0: 0,
        _pad1: 0,
    };
    Ok(Step { params: KernelParams::Pad(params), bindings: node.one_input(), groups })
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
