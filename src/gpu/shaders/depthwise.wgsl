// Depthwise convolution (multiplier 1), NHWC, filter [1, kh, kw, c]: one invocation per output value.
// params: as conv.wgsl (ci = co = c)

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> slope: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let h = param(2u); let w = param(3u); let c = param(4u);
    let oh = param(5u); let ow = param(6u);
    let kh = param(8u); let kw = param(9u);
    let ch = i % c;
    let ox = (i / c) % ow;
    let oy = (i / (c * ow)) % oh;
    let b = i / (c * ow * oh);
    var acc = 0.0;
    for (var ky = 0u; ky < kh; ky++) {
        let iy = i32(oy * param(10u) + ky * param(12u)) - i32(param(14u));
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let ix = i32(ox * param(11u) + kx * param(13u)) - i32(param(15u));
            if (ix < 0 || ix >= i32(w)) { continue; }
            acc = fma(x[((b * h + u32(iy)) * w + u32(ix)) * c + ch], weights[(ky * kw + kx) * c + ch], acc);
        }
    }
    y[i] = activate(acc + bias[ch], param(16u), slope[ch]);
}
