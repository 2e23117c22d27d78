// Direct convolution, NHWC, filter OHWI, where the output channels are a multiple of 4: one invocation per
// four adjacent output channels of an output pixel, so that each input value read serves four filters
// (MobileFaceNet's first layer at batch 32 took 0.20 ms of 2.0 with conv.wgsl on an H200). Its parameters
// are a convolution's (total: the invocations, a quarter of the output values).

@group(0) @binding(1) var<storage, read> x: array<f32>;
// The filter, then one bias and one PReLU slope per output channel.
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let h = params.h; let w = params.w; let ci = params.ci;
    let oh = params.oh; let ow = params.ow; let co4 = params.co / 4u;
    let kh = params.kh; let kw = params.kw;
    let q = i % co4;
    let ox = (i / co4) % ow;
    let oy = (i / (co4 * ow)) % oh;
    let b = i / (co4 * ow * oh);
    // One filter is kh kw ci values; the four of this invocation follow each other.
    let size = kh * kw * ci;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < kh; ky++) {
        let iy = i32(oy * params.stride_h + ky * params.dilation_h) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let ix = i32(ox * params.stride_w + kx * params.dilation_w) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(w)) { continue; }
            let xb = ((b * h + u32(iy)) * w + u32(ix)) * ci;
            let fb = 4u * q * size + (ky * kw + kx) * ci;
            for (var c = 0u; c < ci; c++) {
                let f = vec4<f32>(weights[fb + c], weights[fb + size + c], weights[fb + 2u * size + c], weights[fb + 3u * size + c]);
                acc = fma(vec4<f32>(x[xb + c]), f, acc);
            }
        }
    }
    let bias_at = params.co * size;
    let o = 4u * q;
    let v = acc + vec4<f32>(weights[bias_at + o], weights[bias_at + o + 1u], weights[bias_at + o + 2u], weights[bias_at + o + 3u]);
    let s = bias_at + params.co + o;
    let a = params.activation;
    y[i] = vec4<f32>(activate(v.x, a, weights[s]), activate(v.y, a, weights[s + 1u]), activate(v.z, a, weights[s + 2u]), activate(v.w, a, weights[s + 3u]));
}
