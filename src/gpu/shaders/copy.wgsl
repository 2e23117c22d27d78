// One part of a concatenation: x as [outer, part, inner] written into y as [outer, whole, inner] from
// `offset` along the middle axis, then an activation.

struct CopyParams {
    total: u32,
    groups_x: u32,
    part: u32,
    inner: u32,
    whole: u32,
    offset: u32,
    activation: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: CopyParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let part = params.part; let inner = params.inner;
    let e = i % inner;
    let m = (i / inner) % part;
    let o = i / (inner * part);
    y[(o * params.whole + params.offset + m) * inner + e] = activate(x[i], params.activation, 0.0);
}
