// One part of a concatenation: x as [outer, part, inner] written into y as [outer, whole, inner] from
// `offset` along the middle axis, then an activation.
// params: 0 total, 1 groups_x, 2 part, 3 inner, 4 whole, 5 offset, 6 activation

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let part = param(2u); let inner = param(3u);
    let e = i % inner;
    let m = (i / inner) % part;
    let o = i / (inner * part);
    y[(o * param(4u) + param(5u) + m) * inner + e] = activate(x[i], param(6u), 0.0);
}
