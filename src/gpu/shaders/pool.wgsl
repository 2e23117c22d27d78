// Max or average pooling, NHWC (average over the taps inside the input, as TFLite).
// params: 0 total, 1 groups_x, 2 h, 3 w, 4 c, 5 oh, 6 ow, 7 max (1) or average (0), 8 fh, 9 fw,
//         10 stride_h, 11 stride_w, 14 pad_top, 15 pad_left, 16 activation

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let h = param(2u); let w = param(3u); let c = param(4u);
    let oh = param(5u); let ow = param(6u);
    let is_max = param(7u) == 1u;
    let ch = i % c;
    let ox = (i / c) % ow;
    let oy = (i / (c * ow)) % oh;
    let b = i / (c * ow * oh);
    var acc = select(0.0, bitcast<f32>(0xff7fffffu), is_max); // -f32::MAX (Tint rejects the decimal literal)
    var count = 0u;
    for (var ky = 0u; ky < param(8u); ky++) {
        let iy = i32(oy * param(10u) + ky) - i32(param(14u));
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < param(9u); kx++) {
            let ix = i32(ox * param(11u) + kx) - i32(param(15u));
            if (ix < 0 || ix >= i32(w)) { continue; }
            let v = x[((b * h + u32(iy)) * w + u32(ix)) * c + ch];
            acc = select(acc + v, max(acc, v), is_max);
            count++;
        }
    }
    if (!is_max) { acc = acc / f32(max(count, 1u)); }
    y[i] = activate(acc, param(16u), 0.0);
}
