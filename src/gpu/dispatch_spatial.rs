//! Dispatches of the spatial kernels, over NHWC images: the matmul (1x1 convolutions, dense layers), the
//! other convolutions, pooling and bilinear resize.

use super::dispatch::{activation, flat, u, Binding, NodeShapes, Step};
use super::fuse::ResidualAdd;
use super::kernels::{conv_kernel, unsupported, Kernel, KernelParams};
use super::params::{ConvParams, DepthwiseMatmulParams, MatmulParams, PoolOp, PoolParams, ResizeParams};
use crate::error::Result;
use crate::model::shape::window;
use crate::model::{Activation, Conv, Op, Pool};

/// The side of the square output tile of one matmul workgroup (matmul.wgsl's TILE).
const MATMUL_TILE: usize = 64;

/// C[m x n] = act(A[m x k] . W^T + bias) (+ a residual), one workgroup per tile of C: a 1x1 convolution
/// or a dense layer.
pub(super) fn matmul(node: &NodeShapes, add: Option<&ResidualAdd>) -> Step {
    let fs = node.constant_shape(1);
    let (k, n) = (*fs.last().expect("a filter"), fs[0]);
    let m = node.input(0).iter().product::<usize>() / k;
    let (residual, residual_activation, residual_binding) = residual_of(node, add);
    let params = MatmulParams {
        m: u(m),
        k: u(k),
        n: u(n),
        activation: activation(own_activation(&node.node.op)),
        residual,
        residual_activation,
        _pad0: 0,
        _pad1: 0,
    };
    let bindings =
        vec![Binding::Tensor(node.node.inputs[0]), Binding::Weights(node.index), residual_binding, Binding::Output];
    Step { params: KernelParams::Matmul64x64(params), bindings, groups: matmul_groups(m, n) }
}

/// A matmul with what it took in (`fuse::Unit::Matmul`): its input computed by a depthwise convolution
/// and a residual added after it. Fails (for the CPU to take over) where the shapes of this plan do not
/// allow the fusion that the declared shapes allowed.
pub(super) fn fused_matmul(
    depthwise: Option<&NodeShapes>,
    node: &NodeShapes,
    add: Option<&ResidualAdd>,
    shapes: &[Vec<usize>],
) -> Result<Step> {
    if let Some(a) = add {
        if shapes[a.residual] != node.output() {
            return unsupported("a fused residual ADD of tensors of different shapes");
        }
    }
    let Some(dw) = depthwise else { return Ok(matmul(node, add)) };
    let Op::DepthwiseConv2d(c) = &dw.node.op else {
        return unsupported("a fused op that is not a depthwise convolution");
    };
    let (xs, fs) = (dw.input(0), dw.constant_shape(1));
    let (k, n) = (xs[3], node.constant_shape(1)[0]);
    if node.input(0)[3] != k || fs[1..3] != [3, 3] || c.dilation != [1, 1] {
        return unsupported("a fused depthwise convolution that is not 3x3, undilated, of multiplier 1");
    }
    let (oh, pad_top) = window(xs[1], fs[1], c.stride[0], c.dilation[0], c.padding)?;
    let (ow, pad_left) = window(xs[2], fs[2], c.stride[1], c.dilation[1], c.padding)?;
    let m = xs[0] * oh * ow;
    let (residual, residual_activation, residual_binding) = residual_of(node, add);
    let params = DepthwiseMatmulParams {
        h: u(xs[1]),
        w: u(xs[2]),
        oh: u(oh),
        ow: u(ow),
        stride_h: u(c.stride[0]),
        stride_w: u(c.stride[1]),
        pad_top: u(pad_top),
        pad_left: u(pad_left),
        depthwise_activation: activation(c.activation),
        m: u(m),
        k: u(k),
        n: u(n),
        activation: activation(own_activation(&node.node.op)),
        residual,
        residual_activation,
        _pad0: 0,
    };
    let bindings = vec![
        Binding::Tensor(dw.node.inputs[0]),
        Binding::Weights(dw.index),
        Binding::Weights(node.index),
        residual_binding,
        Binding::Output,
    ];
    Ok(Step { params: KernelParams::Depthwise3x3Matmul64x64(params), bindings, groups: matmul_groups(m, n) })
}

/// The residual flag, its activation and its binding: with no residual, the node's weights stand in (a
/// binding is needed; the kernel does not read it).
fn residual_of(node: &NodeShapes, add: Option<&ResidualAdd>) -> (u32, u32, Binding) {
    match add {
        Some(a) => (1, activation(a.activation), Binding::Tensor(a.residual)),
        None => (0, activation(Activation::None), Binding::Weights(node.index)),
    }
}

/// The activation a convolution or dense layer applies to its own output.
fn own_activation(op: &Op) -> Activation {
    match op {
        Op::Conv2d(c) | Op::DepthwiseConv2d(c) => c.activation,
        Op::FullyConnected { activation, .. } => *activation,
        _ => Activation::None,
    }
}

fn matmul_groups(m: usize, n: usize) -> [u32; 2] {
    [n.div_ceil(MATMUL_TILE) as u32, m.div_ceil(MATMUL_TILE) as u32]
}

/// A direct convolution (filter OHWI) or a depthwise one (filter [1, kh, kw, c]).
pub(super) fn conv(node: &NodeShapes, c: &Conv, depthwise: bool) -> Result<Step> {
    let (xs, fs) = (node.input(0), node.constant_shape(1));
    let co = if depthwise { fs[3] } else { fs[0] };
    let (oh, pad_top) = window(xs[1], fs[1], c.stride[0], c.dilation[0], c.padding)?;
    let (ow, pad_left) = window(xs[2], fs[2], c.stride[1], c.dilation[1], c.padding)?;
    let kernel = conv_kernel(co, depthwise);
    let per_invocation = if matches!(kernel, Kernel::Conv2dC4 | Kernel::DepthwiseConv2dC4) { 4 } else { 1 };
    let invocations = node.total() / per_invocation;
    let (groups_x, groups) = flat(invocations);
    let params = ConvParams {
        total: u(invocations),
        groups_x,
        h: u(xs[1]),
        w: u(xs[2]),
        ci: u(xs[3]),
        oh: u(oh),
        ow: u(ow),
        co: u(co),
        kh: u(fs[1]),
        kw: u(fs[2]),
        stride_h: u(c.stride[0]),
        stride_w: u(c.stride[1]),
        dilation_h: u(c.dilation[0]),
        dilation_w: u(c.dilation[1]),
        pad_top: u(pad_top),
        pad_left: u(pad_left),
        activation: activation(c.activation),
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    let params = match kernel {
        Kernel::DepthwiseConv2dC4 => KernelParams::DepthwiseConv2dC4(params),
        Kernel::DepthwiseConv2d => KernelParams::DepthwiseConv2d(params),
        Kernel::Conv2dC4 => KernelParams::Conv2dC4(params),
        _ => KernelParams::Conv2d(params),
    };
    Ok(Step { params, bindings: node.weighted(), groups })
}

pub(super) fn pool(node: &NodeShapes, p: &Pool, op: PoolOp) -> Result<Step> {
    let xs = node.input(0);
    let (oh, pad_top) = window(xs[1], p.filter[0], p.stride[0], 1, p.padding)?;
    let (ow, pad_left) = window(xs[2], p.filter[1], p.stride[1], 1, p.padding)?;
    let (groups_x, groups) = flat(node.total());
    let params = PoolParams {
        total: u(node.total()),
        groups_x,
        h: u(xs[1]),
        w: u(xs[2]),
        c: u(xs[3]),
        oh: u(oh),
        ow: u(ow),
        op: op as u32,
        fh: u(p.filter[0]),
        fw: u(p.filter[1]),
        stride_h: u(p.stride[0]),
        stride_w: u(p.stride[1]),
        pad_top: u(pad_top),
        pad_left: u(pad_left),
        activation: activation(p.activation),
        _pad0: 0,
    };
    Ok(Step { params: KernelParams::Pool2d(params), bindings: node.one_input(), groups })
}

pub(super) fn resize(node: &NodeShapes, size: [usize; 2], align_corners: bool, half_pixel_centers: bool) -> Step {
    let xs = node.input(0);
    let scale = |input: usize, output: usize| {
        if align_corners && output > 1 {
            input.saturating_sub(1) as f32 / (output - 1) as f32
        } else {
            input as f32 / output as f32
        }
    };
    let (groups_x, groups) = flat(node.total());
    let params = ResizeParams {
        total: u(node.total()),
        groups_x,
        h: u(xs[1]),
        w: u(xs[2]),
        c: u(xs[3]),
        oh: u(size[0]),
        ow: u(size[1]),
        scale_y: scale(xs[1], size[0]),
        scale_x: scale(xs[2], size[1]),
        half_pixel_centers: u32::from(half_pixel_centers),
        _pad0: 0,
        _pad1: 0,
    };
    Step { params: KernelParams::ResizeBilinear(params), bindings: node.one_input(), groups }
}
