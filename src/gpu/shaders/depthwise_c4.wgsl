// Depthwise convolution (multiplier 1), NHWC, filter [1, kh, kw, c], where c is a multiple of 4: one
// invocation per four adjacent channels of an output pixel, read and written as vec4s (a quarter of the
// index arithmetic and of the memory instructions of depthwise.wgsl). Its parameters are a convolution's
// (ci = co = c; total: the invocations, a quarter of the output values).

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
// The filter, then one bias and one PReLU slope per output channel.
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let h = params.h; let w = params.w; let c4 = params.ci / 4u;
    let oh = params.oh; let ow = params.ow;
    let kh = params.kh; let kw = params.kw;
    let q = i % c4;
    let ox = (i / c4) % ow;
    let oy = (i / (c4 * ow)) % oh;
    let b = i / (c4 * ow * oh);
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < kh; ky++) {
        let iy = i32(oy * params.stride_h + ky * params.dilation_h) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let ix = i32(ox * params.stride_w + kx * params.dilation_w) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(w)) { continue; }
            acc = fma(x[((b * h + u32(iy)) * w + u32(ix)) * c4 + q], weights[(ky * kw + kx) * c4 + q], acc);
        }
    }
    let bias_at = kh * kw * c4;
    let v = acc + weights[bias_at + q];
    let slope = weights[bias_at + c4 + q];
    let a = params.activation;
    y[i] = vec4<f32>(activate(v.x, a, slope.x), activate(v.y, a, slope.y), activate(v.z, a, slope.z), activate(v.w, a, slope.w));
}
