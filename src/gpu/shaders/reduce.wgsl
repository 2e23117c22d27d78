// Max or sum over the middle axis of x as [outer, reduced, inner].

struct ReduceParams {
    total: u32, // outer * inner
    groups_x: u32,
    reduced: u32,
    inner: u32,
    op: u32, // REDUCE_*
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let r = params.reduced; let inner = params.inner;
    let is_max = params.op == REDUCE_MAX;
    let base = (i / inner) * r * inner + i % inner;
    var acc = select(0.0, bitcast<f32>(0xff7fffffu), is_max); // -f32::MAX (Tint rejects the decimal literal)
    for (var k = 0u; k < r; k++) {
        let v = x[base + k * inner];
        acc = select(acc + v, max(acc, v), is_max);
    }
    y[i] = acc;
}
