// A 3x3 depthwise convolution (multiplier 1, no dilation) and the 1x1 convolution that reads it, in one
// dispatch: the matmul's A is the depthwise output, computed as the tile loop (matmul_tile.wgsl, appended)
// asks for it, so that it never goes through memory. A value is computed once per 64 output channels (a
// tile column). The window is a constant 3x3, so that the compiler unrolls it and issues its nine loads at
// once (with the window from the parameters they went one after the other). Even so, each step of the k
// loop waits on them: on an H200 at batch 1 this dispatch is slower than the two it replaces, so it runs
// only with `Fusion::All` (fuse.rs).

const KH: u32 = 3u;
const KW: u32 = 3u;

struct DepthwiseMatmulParams {
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    // The depthwise convolution's activation.
    depthwise_activation: u32,
    m: u32,
    // The channels: the depthwise convolution's, and the matmul's k.
    k: u32,
    n: u32,
    activation: u32,
    residual: u32,
    residual_activation: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: DepthwiseMatmulParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// [3 x 3 x k] filter, then k biases, then k slopes.
@group(0) @binding(2) var<storage, read> depthwise: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

// The depthwise output at output pixel `row` (of the batch), channel `ch`.
fn a_value(row: u32, ch: u32) -> f32 {
    let channels = params.k;
    let ox = row % params.ow;
    let oy = (row / params.ow) % params.oh;
    let b = row / (params.ow * params.oh);
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(params.h)) { continue; }
        for (var kx = 0u; kx < KW; kx++) {
            let ix = i32(ox * params.stride_w + kx) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(params.w)) { continue; }
            let at = ((b * params.h + u32(iy)) * params.w + u32(ix)) * channels + ch;
            acc = fma(x[at], depthwise[(ky * KW + kx) * channels + ch], acc);
        }
    }
    let bias_at = KH * KW * channels;
    return activate(acc + depthwise[bias_at + ch], params.depthwise_activation, depthwise[bias_at + channels + ch]);
}
