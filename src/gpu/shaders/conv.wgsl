// Direct convolution, NHWC, filter OHWI: one invocation per output value. For the few convolutions that
// are not 1x1 (the models' first layers, O-Net).

@group(0) @binding(1) var<storage, read> x: array<f32>;
// The filter, then one bias and one PReLU slope per output channel.
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let h = params.h; let w = params.w; let ci = params.ci;
    let oh = params.oh; let ow = params.ow; let co = params.co;
    let kh = params.kh; let kw = params.kw;
    let o = i % co;
    let ox = (i / co) % ow;
    let oy = (i / (co * ow)) % oh;
    let b = i / (co * ow * oh);
    var acc = 0.0;
    for (var ky = 0u; ky < kh; ky++) {
        let iy = i32(oy * params.stride_h + ky * params.dilation_h) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let ix = i32(ox * params.stride_w + kx * params.dilation_w) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(w)) { continue; }
            let xb = ((b * h + u32(iy)) * w + u32(ix)) * ci;
            let fb = ((o * kh + ky) * kw + kx) * ci;
            for (var c = 0u; c < ci; c++) {
                acc = fma(x[xb + c], weights[fb + c], acc);
            }
        }
    }
    let bias_at = co * kh * kw * ci;
    y[i] = activate(acc + weights[bias_at + o], params.activation, weights[bias_at + co + o]);
}
