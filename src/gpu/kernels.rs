//! The compute kernels: which one runs each op, their WGSL sources (with the generated code constants and
//! common.wgsl before each), and the parameters each one takes.

use super::params::{
    wgsl_constants, BinaryParams, ConvParams, CopyParams, DepthwiseMatmulParams, MatmulParams, PoolParams,
    RearrangeParams, ReduceParams, ResizeParams, UnaryParams,
};
use crate::error::{Error, Result};
use crate::model::{Conv, Graph, Node, Op};

/// A compute kernel, named by what it computes (and its output tile, where it has one).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Kernel {
    /// C = A . W^T in 64 x 64 tiles: 1x1 convolutions and fully connected layers (with a residual ADD
    /// fused where there is one).
    Matmul64x64,
    /// A 3x3 depthwise convolution and the 1x1 convolution after it (and a residual ADD), in 64 x 64 tiles.
    Depthwise3x3Matmul64x64,
    /// Any other convolution, one output value per invocation.
    Conv2d,
    /// The same, four output channels per invocation, where they are a multiple of 4.
    Conv2dC4,
    DepthwiseConv2d,
    /// The same, four channels per invocation, where the channels are a multiple of 4.
    DepthwiseConv2dC4,
    /// a op b with broadcasting.
    Binary,
    /// f(x) then an activation.
    Unary,
    /// Max or average pooling.
    Pool2d,
    /// A copy that moves each value: padding, slicing, transposing.
    Rearrange,
    /// One input of a concatenation copied into its place.
    ConcatCopy,
    ResizeBilinear,
    /// Max or sum along adjacent axes.
    Reduce,
}

impl Kernel {
    pub(super) const ALL: [Kernel; 13] = [
        Kernel::Matmul64x64,
        Kernel::Depthwise3x3Matmul64x64,
        Kernel::Conv2d,
        Kernel::Conv2dC4,
        Kernel::DepthwiseConv2d,
        Kernel::DepthwiseConv2dC4,
        Kernel::Binary,
        Kernel::Unary,
        Kernel::Pool2d,
        Kernel::Rearrange,
        Kernel::ConcatCopy,
        Kernel::ResizeBilinear,
        Kernel::Reduce,
    ];

    /// The kernel's own shader file: the matmuls' with the tile loop they share after it, the convolutions'
    /// with their shared parameters before it.
    pub(super) fn source(self) -> String {
        let tile_loop = include_str!("shaders/matmul_tile.wgsl");
        let conv_params = include_str!("shaders/conv_params.wgsl");
        match self {
            Kernel::Matmul64x64 => format!("{}\n{tile_loop}", include_str!("shaders/matmul.wgsl")),
            Kernel::Depthwise3x3Matmul64x64 => {
                format!("{}\n{tile_loop}", include_str!("shaders/depthwise_matmul.wgsl"))
            }
            Kernel::Conv2d => format!("{conv_params}\n{}", include_str!("shaders/conv.wgsl")),
            Kernel::Conv2dC4 => format!("{conv_params}\n{}", include_str!("shaders/conv_c4.wgsl")),
            Kernel::DepthwiseConv2d => format!("{conv_params}\n{}", include_str!("shaders/depthwise.wgsl")),
            Kernel::DepthwiseConv2dC4 => format!("{conv_params}\n{}", include_str!("shaders/depthwise_c4.wgsl")),
            Kernel::Binary => include_str!("shaders/binary.wgsl").into(),
            Kernel::Unary => include_str!("shaders/unary.wgsl").into(),
            Kernel::Pool2d => include_str!("shaders/pool.wgsl").into(),
            Kernel::Rearrange => include_str!("shaders/rearrange.wgsl").into(),
            Kernel::ConcatCopy => include_str!("shaders/copy.wgsl").into(),
            Kernel::ResizeBilinear => include_str!("shaders/resize.wgsl").into(),
            Kernel::Reduce => include_str!("shaders/reduce.wgsl").into(),
        }
    }

    /// The whole shader module: the code constants, common.wgsl, then the kernel.
    pub(super) fn module_source(self) -> String {
        format!("{}\n{}\n{}", wgsl_constants(), include_str!("shaders/common.wgsl"), self.source())
    }
}

/// A kernel with its parameters: the variant says which kernel, so the two cannot disagree.
#[derive(Clone, Copy, Debug)]
pub(super) enum KernelParams {
    Matmul64x64(MatmulParams),
    Depthwise3x3Matmul64x64(DepthwiseMatmulParams),
    Conv2d(ConvParams),
    Conv2dC4(ConvParams),
    DepthwiseConv2d(ConvParams),
    DepthwiseConv2dC4(ConvParams),
    Binary(BinaryParams),
    Unary(UnaryParams),
    Pool2d(PoolParams),
    Rearrange(RearrangeParams),
    ConcatCopy(CopyParams),
    ResizeBilinear(ResizeParams),
    Reduce(ReduceParams),
}

impl KernelParams {
    pub(super) fn kernel(&self) -> Kernel {
        match self {
            KernelParams::Matmul64x64(_) => Kernel::Matmul64x64,
            KernelParams::Depthwise3x3Matmul64x64(_) => Kernel::Depthwise3x3Matmul64x64,
            KernelParams::Conv2d(_) => Kernel::Conv2d,
            KernelParams::Conv2dC4(_) => Kernel::Conv2dC4,
            KernelParams::DepthwiseConv2d(_) => Kernel::DepthwiseConv2d,
            KernelParams::DepthwiseConv2dC4(_) => Kernel::DepthwiseConv2dC4,
            KernelParams::Binary(_) => Kernel::Binary,
            KernelParams::Unary(_) => Kernel::Unary,
            KernelParams::Pool2d(_) => Kernel::Pool2d,
            KernelParams::Rearrange(_) => Kernel::Rearrange,
            KernelParams::ConcatCopy(_) => Kernel::ConcatCopy,
            KernelParams::ResizeBilinear(_) => Kernel::ResizeBilinear,
            KernelParams::Reduce(_) => Kernel::Reduce,
        }
    }

    /// The contents of the kernel's uniform block.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            KernelParams::Matmul64x64(p) => bytemuck::bytes_of(p),
            KernelParams::Depthwise3x3Matmul64x64(p) => bytemuck::bytes_of(p),
            KernelParams::Conv2d(p)
            | KernelParams::Conv2dC4(p)
            | KernelParams::DepthwiseConv2d(p)
            | KernelParams::DepthwiseConv2dC4(p) => bytemuck::bytes_of(p),
            KernelParams::Binary(p) => bytemuck::bytes_of(p),
            KernelParams::Unary(p) => bytemuck::bytes_of(p),
            KernelParams::Pool2d(p) => bytemuck::bytes_of(p),
            KernelParams::Rearrange(p) => bytemuck::bytes_of(p),
            KernelParams::ConcatCopy(p) => bytemuck::bytes_of(p),
            KernelParams::ResizeBilinear(p) => bytemuck::bytes_of(p),
            KernelParams::Reduce(p) => bytemuck::bytes_of(p),
        }
    }
}

/// The kernel that runs a node (none for a reshape, which shares its input's buffer).
pub(super) fn kernel_of(node: &Node, graph: &Graph) -> Option<Kernel> {
    Some(match &node.op {
        Op::Conv2d(c) if pointwise(c, &graph.tensors[node.inputs[1]].shape) => Kernel::Matmul64x64,
        Op::Conv2d(_) => conv_kernel(graph.tensors[node.inputs[1]].shape[0], false),
        Op::FullyConnected { .. } => Kernel::Matmul64x64,
        Op::DepthwiseConv2d(_) => conv_kernel(graph.tensors[node.inputs[1]].shape[3], true),
        Op::Add(_) | Op::Sub(_) | Op::Mul(_) | Op::Div(_) | Op::Prelu => Kernel::Binary,
        Op::Abs | Op::Neg | Op::Exp | Op::Activation(_) | Op::LeakyRelu { .. } => Kernel::Unary,
        Op::MaxPool2d(_) | Op::AvgPool2d(_) => Kernel::Pool2d,
        Op::Pad { .. } | Op::Slice { .. } | Op::Transpose(_) => Kernel::Rearrange,
        Op::Concat { .. } => Kernel::ConcatCopy,
        Op::ResizeBilinear { .. } => Kernel::ResizeBilinear,
        Op::ReduceMax { .. } | Op::Sum { .. } => Kernel::Reduce,
        Op::Reshape(_) | Op::Dequantize => return None,
    })
}

/// The kernel of a (depthwise) convolution with `channels` outputs: four per invocation where they divide
/// by 4.
pub(super) fn conv_kernel(channels: usize, depthwise: bool) -> Kernel {
    match (channels.is_multiple_of(4), depthwise) {
        (true, true) => Kernel::DepthwiseConv2dC4,
        (false, true) => Kernel::DepthwiseConv2d,
        (true, false) => Kernel::Conv2dC4,
        (false, false) => Kernel::Conv2d,
    }
}

/// A 1x1 convolution with stride 1 is a matrix multiply of the pixels by the filter.
pub(super) fn pointwise(c: &Conv, filter_shape: &[usize]) -> bool {
    filter_shape[1] == 1 && filter_shape[2] == 1 && c.stride == [1, 1]
}

pub(super) fn unsupported<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(Error::gpu(format!("{what} is not supported by the GPU backend")))
}

/// Checks what the kernels cannot do, before anything is uploaded.
pub(super) fn check_supported(node: &Node) -> Result<()> {
    match &node.op {
        Op::ReduceMax { axes, .. } | Op::Sum { axes, .. } => {
            let mut sorted = axes.clone();
            sorted.sort_unstable();
            if sorted.is_empty() {
                unsupported("a reduction over no axis")
            } else if sorted.windows(2).all(|w| w[1] == w[0] + 1) {
                Ok(())
            } else {
                unsupported("a reduction over axes that are not adjacent")
            }
        }
        _ => Ok(()),
    }
}
