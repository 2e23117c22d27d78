//! Dispatches of the spatial kernels, over NHWC images: the matmul (1x1 convolutions, dense layers), the
//! other convolutions, pooling and bilinear resize.

use super::dispatch::{activation, flat, u, NodeShapes, Step};
use super::kernels::KernelParams;
use super::params::{ConvParams, MatmulParams, PoolOp, PoolParams, ResizeParams};
use crate::error::Result;
use crate::model::shape::window;
use crate::model::{Activation, Conv, Pool};

/// The side of the square output tile of one matmul workgroup (matmul.wgsl's TILE).
const MATMUL_TILE: usize = 64;

/// C[m x n] = act(A[m x k] . W^T + bias), one workgroup per tile of C.
pub(super) fn matmul(node: &NodeShapes, m: usize, k: usize, n: usize, act: Activation) -> Step {
    let params = MatmulParams { m: u(m), k: u(k), n: u(n), activation: activation(act) };
    let groups = [n.div_ceil(MATMUL_TILE) as u32, m.div_ceil(MATMUL_TILE) as u32];
    Step { params: KernelParams::Matmul64x64(params), bindings: node.weighted(), groups }
}

/// A direct convolution (filter OHWI) or a depthwise one (filter [1, kh, kw, c]).
pub(super) fn conv(node: &NodeShapes, c: &Conv, depthwise: bool) -> Result<Step> {
    let (xs, fs) = (node.input(0), node.constant_shape(1));
    let co = if depthwise { fs[3] } else { fs[0] };
    let (oh, pad_top) = window(xs[1], fs[1], c.stride[0], c.dilation[0], c.padding)?;
    let (ow, pad_left) = window(xs[2], fs[2], c.stride[1], c.dilation[1], c.padding)?;
    let (groups_x, groups) = flat(node.total());
    let params = ConvParams {
        total: u(node.total()),
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
    let params = if depthwise { KernelParams::DepthwiseConv2d(params) } else { KernelParams::Conv2d(params) };
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
