// The parameters of the convolution kernels (conv.wgsl, conv_c4.wgsl, depthwise.wgsl, depthwise_c4.wgsl),
// which each kernel's source begins with: `ConvParams` in src/gpu/params.rs. `total` and `groups_x` as in
// `flat_index` (common.wgsl): the invocations and the workgroups along x.

struct ConvParams {
    total: u32,
    groups_x: u32,
    h: u32,
    w: u32,
    ci: u32,
    oh: u32,
    ow: u32,
    co: u32,
    kh: u32,
    kw: u32,
    stride_h: u32,
    stride_w: u32,
    dilation_h: u32,
    dilation_w: u32,
    pad_top: u32,
    pad_left: u32,
    activation: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: ConvParams;
