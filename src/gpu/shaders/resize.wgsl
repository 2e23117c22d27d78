// Bilinear resize, NHWC, with TFLite's coordinate rules.

struct ResizeParams {
    total: u32,
    groups_x: u32,
    h: u32,
    w: u32,
    c: u32,
    oh: u32,
    ow: u32,
    scale_y: f32, // input pixels per output pixel
    scale_x: f32,
    half_pixel_centers: u32, // 1 or 0
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: ResizeParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

fn source(o: u32, scale: f32, size: u32) -> vec3<f32> {
    var s = f32(o) * scale;
    if (params.half_pixel_centers == 1u) { s = (f32(o) + 0.5) * scale - 0.5; }
    let lo = min(max(floor(s), 0.0), f32(size - 1u));
    let hi = min(ceil(s), f32(size - 1u));
    return vec3<f32>(s, lo, max(hi, 0.0));
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let h = params.h; let w = params.w; let c = params.c;
    let oh = params.oh; let ow = params.ow;
    let ch = i % c;
    let ox = (i / c) % ow;
    let oy = (i / (c * ow)) % oh;
    let b = i / (c * ow * oh);
    let sy = source(oy, params.scale_y, h);
    let sx = source(ox, params.scale_x, w);
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
