// Direct convolution, NHWC, filter OHWI: one invocation per output value. For the few convolutions that
// are not 1x1 (the models' first layers, O-Net).
// params: 0 total, 1 groups_x, 2 h, 3 w, 4 ci, 5 oh, 6 ow, 7 co, 8 kh, 9 kw, 10 stride_h, 11 stride_w,
//         12 dilation_h, 13 dilation_w, 14 pad_top, 15 pad_left, 16 activation

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> slope: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let h = param(2u); let w = param(3u); let ci = param(4u);
    let oh = param(5u); let ow = param(6u); let co = param(7u);
    let kh = param(8u); let kw = param(9u);
    let o = i % co;
    let ox = (i / co) % ow;
    let oy = (i / (co * ow)) % oh;
    let b = i / (co * ow * oh);
    var acc = 0.0;
    for (var ky = 0u; ky < kh; ky++) {
        let iy = i32(oy * param(10u) + ky * param(12u)) - i32(param(14u));
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let ix = i32(ox * param(11u) + kx * param(13u)) - i32(param(15u));
            if (ix < 0 || ix >= i32(w)) { continue; }
            let xb = ((b * h + u32(iy)) * w + u32(ix)) * ci;
            let fb = ((o * kh + ky) * kw + kx) * ci;
            for (var c = 0u; c < ci; c++) {
                acc = fma(x[xb + c], weights[fb + c], acc);
            }
        }
    }
    y[i] = activate(acc + bias[o], param(16u), slope[o]);
}
