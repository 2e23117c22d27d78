// Bilinear resize, NHWC, with TFLite's coordinate rules.
// params: 0 total, 1 groups_x, 2 h, 3 w, 4 c, 5 oh, 6 ow, 7 scale_y bits, 8 scale_x bits, 9 half_pixel_centers

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

fn source(o: u32, scale: f32, size: u32) -> vec3<f32> {
    var s = f32(o) * scale;
    if (param(9u) == 1u) { s = (f32(o) + 0.5) * scale - 0.5; }
    let lo = min(max(floor(s), 0.0), f32(size - 1u));
    let hi = min(ceil(s), f32(size - 1u));
    return vec3<f32>(s, lo, max(hi, 0.0));
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let h = param(2u); let w = param(3u); let c = param(4u);
    let oh = param(5u); let ow = param(6u);
    let ch = i % c;
    let ox = (i / c) % ow;
    let oy = (i / (c * ow)) % oh;
    let b = i / (c * ow * oh);
    let sy = source(oy, bitcast<f32>(param(7u)), h);
    let sx = source(ox, bitcast<f32>(param(8u)), w);
    let dy = sy.x - sy.y;
    let dx = sx.x - sx.y;
    let y0 = u32(sy.y); let y1 = u32(sy.z); let x0 = u32(sx.y); let x1 = u32(sx.z);
    let at = (b * h) * w;
    let v00 = x[((at + y0 * w) + x0) * c + ch];
    let v10 = x[((at + y1 * w) + x0) * c + ch];
    let v01 = x[((at + y0 * w) + x1) * c + ch];
    let v11 = x[((at + y1 * w) + x1) * c + ch];
    y[i] = v00 * (1.0 - dy) * (1.0 - dx) + v10 * dy * (1.0 - dx) + v01 * (1.0 - dy) * dx + v11 * dy * dx;
}
