// Max or average pooling, NHWC (average over the taps inside the input, as TFLite).

struct PoolParams {
    total: u32,
    groups_x: u32,
    h: u32,
    w: u32,
    c: u32,
    oh: u32,
    ow: u32,
    op: u32, // POOL_*
    fh: u32,
    fw: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    activation: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let h = params.h; let w = params.w; let c = params.c;
    let oh = params.oh; let ow = params.ow;
    let is_max = params.op == POOL_MAX;
    let ch = i % c;
    let ox = (i / c) % ow;
    let oy = (i / (c * ow)) % oh;
    let b = i / (c * ow * oh);
    var acc = select(0.0, bitcast<f32>(0xff7fffffu), is_max); // -f32::MAX (Tint rejects the decimal literal)
    var count = 0u;
    for (var ky = 0u; ky < params.fh; ky++) {
        let iy = i32(oy * params.stride_h + ky) - i32(params.pad_top);
        if (iy < 0 || iy >= i32(h)) { continue; }
        for (var kx = 0u; kx < params.fw; kx++) {
            let ix = i32(ox * params.stride_w + kx) - i32(params.pad_left);
            if (ix < 0 || ix >= i32(w)) { continue; }
            let v = x[((b * h + u32(iy)) * w + u32(ix)) * c + ch];
            acc = select(acc + v, max(acc, v), is_max);
            count++;
        }
    }
    if (!is_max) { acc = acc / f32(max(count, 1u)); }
    y[i] = activate(acc, params.activation, 0.0);
}
