//! What a kernel is told: one parameter struct per kernel family, uploaded as its uniform block (binding 0)
//! and mirrored field by field by a WGSL struct in the kernel's shader (checked by `layout_tests`), and the
//! op and activation codes the kernels switch on, from which the shaders' WGSL constants are generated.

use crate::model::Activation;
use std::fmt::Write;

/// Defines a `#[repr(u32)]` enum of codes a kernel switches on, and the WGSL constants for its variants
/// (`ActivationKind::Relu6` is `const ACTIVATION_RELU6: u32 = 2u;`), so that each code is written once.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident as $prefix:literal { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$doc])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum $name {
            $($(#[$vdoc])* $variant = $code,)*
        }

        impl $name {
            fn write_wgsl(out: &mut String) {
                $(
                    let name = upper_snake_case(stringify!($variant));
                    let _ = writeln!(out, "const {}_{name}: u32 = {}u;", $prefix, $name::$variant as u32);
                )*
            }
        }
    };
}

codes! {
    /// The activation a kernel applies to its result (`activate` in common.wgsl).
    ActivationKind as "ACTIVATION" {
        None = 0,
        Relu = 1,
        Relu6 = 2,
        ReluN1To1 = 3,
        /// Times a per-channel slope where negative.
        Prelu = 4,
    }
}

codes! {
    /// The function of the binary kernel: a op b.
    BinaryOp as "BINARY" {
        Add = 0,
        Sub = 1,
        Mul = 2,
        Div = 3,
        /// a where a >= 0, else a * b.
        Prelu = 4,
    }
}

codes! {
    /// The function of the unary kernel (its activation comes after).
    UnaryOp as "UNARY" {
        /// The activation alone.
        Identity = 0,
        Abs = 1,
        Neg = 2,
        Exp = 3,
        /// x where x > 0, else x * alpha.
        LeakyRelu = 4,
    }
}

codes! {
    /// What the pooling kernel takes of its window.
    PoolOp as "POOL" {
        /// The mean of the taps inside the input (as TFLite).
        Average = 0,
        Max = 1,
    }
}

codes! {
    /// What the reduction kernel takes along its axes.
    ReduceOp as "REDUCE" {
        Sum = 0,
        Max = 1,
    }
}

impl From<Activation> for ActivationKind {
    fn from(a: Activation) -> ActivationKind {
        match a {
            Activation::None => ActivationKind::None,
            Activation::Relu => ActivationKind::Relu,
            Activation::Relu6 => ActivationKind::Relu6,
            Activation::ReluN1To1 => ActivationKind::ReluN1To1,
            Activation::Prelu => ActivationKind::Prelu,
        }
    }
}

/// `ReluN1To1` as `RELU_N1_TO1`: an underscore before each capital that follows a small letter or a digit.
fn upper_snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
        previous = Some(c);
    }
    out
}

/// The WGSL constants of every code, prepended to every shader.
pub(super) fn wgsl_constants() -> String {
    let mut out = String::from("// Generated from the Rust enums in src/gpu/params.rs.\n");
    ActivationKind::write_wgsl(&mut out);
    BinaryOp::write_wgsl(&mut out);
    UnaryOp::write_wgsl(&mut out);
    PoolOp::write_wgsl(&mut out);
    ReduceOp::write_wgsl(&mut out);
    out
}

/// Defines parameter structs: `#[repr(C)]`, plain old data (scalar fields of 4 bytes, no padding the
/// compiler adds; `_padN` fields round the size up to the 16 bytes WGSL's uniform layout wants), and, for
/// the layout test, each field's name, type and offset.
macro_rules! params {
    ($($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ident,)* })*) => {
        $(
            $(#[$doc])*
            #[repr(C)]
            #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
            pub(super) struct $name {
                $($(#[$fdoc])* pub $field: $ty,)*
            }

            #[cfg(test)]
            impl $name {
                /// Name, scalar type and byte offset of each field, in order.
                pub(super) const FIELDS: &[(&str, &str, usize)] =
                    &[$((stringify!($field), stringify!($ty), std::mem::offset_of!($name, $field)),)*];
            }
        )*
    };
}

params! {
    /// C[m x n] = act(A[m x k] . W[n x k]^T + bias), then with a residual R, act2(C + R): matmul.wgsl.
    MatmulParams {
        m: u32,
        k: u32,
        n: u32,
        /// An `ActivationKind`.
        activation: u32,
        /// 1 where a residual is added (a fused ADD), else 0.
        residual: u32,
        /// The ADD's `ActivationKind`.
        residual_activation: u32,
        _pad0: u32,
        _pad1: u32,
    }

    /// A 3x3 depthwise convolution (multiplier 1, no dilation) whose output is the A of a matmul as in
    /// `MatmulParams`: depthwise_matmul.wgsl. The input is [b, h, w, k]; the depthwise output
    /// [b, oh, ow, k], m = b oh ow.
    DepthwiseMatmulParams {
        h: u32,
        w: u32,
        oh: u32,
        ow: u32,
        stride_h: u32,
        stride_w: u32,
        pad_top: u32,
        pad_left: u32,
        /// The depthwise convolution's `ActivationKind`.
        depthwise_activation: u32,
        m: u32,
        k: u32,
        n: u32,
        activation: u32,
        residual: u32,
        residual_activation: u32,
        _pad0: u32,
    }

    /// A direct or depthwise convolution, NHWC (conv.wgsl, depthwise.wgsl); `total` and `groups_x` as in
    /// `flat_index` (common.wgsl): the output values and the workgroups along x.
    ConvParams {
        total: u32,
        groups_x: u32,
        h: u32,
        w: u32,
        ci: u32,
        oh: u32,
        ow: u32,
        /// Output channels (for a depthwise convolution, `ci`).
        co: u32,
        kh: u32,
        kw: u32,
        stride_h: u32,
        stride_w: u32,
        dilation_h: u32,
        dilation_w: u32,
        pad_top: u32,
        pad_left: u32,
        /// An `ActivationKind`.
        activation: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }

    /// Max or average pooling, NHWC: pool.wgsl.
    PoolParams {
        total: u32,
        groups_x: u32,
        h: u32,
        w: u32,
        c: u32,
        oh: u32,
        ow: u32,
        /// A `PoolOp`.
        op: u32,
        fh: u32,
        fw: u32,
        stride_h: u32,
        stride_w: u32,
        pad_top: u32,
        pad_left: u32,
        /// An `ActivationKind`.
        activation: u32,
        _pad0: u32,
    }

    /// a op b broadcast to a rank-4 output (shapes padded with ones on the left): binary.wgsl.
    BinaryParams {
        total: u32,
        groups_x: u32,
        /// A `BinaryOp`.
        op: u32,
        /// An `ActivationKind`.
        activation: u32,
        dim0: u32,
        dim1: u32,
        dim2: u32,
        dim3: u32,
        /// Strides of a along the output's dimensions, 0 where a is broadcast.
        a_stride0: u32,
        a_stride1: u32,
        a_stride2: u32,
        a_stride3: u32,
        b_stride0: u32,
        b_stride1: u32,
        b_stride2: u32,
        b_stride3: u32,
    }

    /// An elementwise function then an activation: unary.wgsl.
    UnaryParams {
        total: u32,
        groups_x: u32,
        /// A `UnaryOp`.
        op: u32,
        /// An `ActivationKind`.
        activation: u32,
        /// The slope of `UnaryOp::LeakyRelu`.
        alpha: f32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }

    /// A copy that moves each value, over a rank-4 view (shapes padded with ones on the left): padding,
    /// slicing, transposing. rearrange.wgsl.
    RearrangeParams {
        total: u32,
        groups_x: u32,
        out_dim0: u32,
        out_dim1: u32,
        out_dim2: u32,
        out_dim3: u32,
        /// The source's stride along each output dimension.
        src_stride0: u32,
        src_stride1: u32,
        src_stride2: u32,
        src_stride3: u32,
        /// The source's size along each output dimension: a coordinate outside it reads `value`.
        src_dim0: u32,
        src_dim1: u32,
        src_dim2: u32,
        src_dim3: u32,
        /// Output coordinate minus source coordinate: the padding before, or minus a slice's start.
        offset0: i32,
        offset1: i32,
        offset2: i32,
        offset3: i32,
        value: f32,
        _pad0: u32,
    }

    /// One input of a concatenation, [outer, part, inner] into [outer, whole, inner] from `offset`: copy.wgsl.
    CopyParams {
        total: u32,
        groups_x: u32,
        part: u32,
        inner: u32,
        whole: u32,
        offset: u32,
        /// An `ActivationKind`.
        activation: u32,
        _pad0: u32,
    }

    /// Bilinear resize, NHWC: resize.wgsl. The scales map an output coordinate to the input's.
    ResizeParams {
        total: u32,
        groups_x: u32,
        h: u32,
        w: u32,
        c: u32,
        oh: u32,
        ow: u32,
        scale_y: f32,
        scale_x: f32,
        /// 1 to sample at pixel centres (TFLite's half_pixel_centers), else 0.
        half_pixel_centers: u32,
        _pad0: u32,
        _pad1: u32,
    }

    /// Max or sum over the middle axis of [outer, reduced, inner]: reduce.wgsl. `total` is outer * inner.
    ReduceParams {
        total: u32,
        groups_x: u32,
        reduced: u32,
        inner: u32,
        /// A `ReduceOp`.
        op: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}
