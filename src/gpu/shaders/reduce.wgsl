// Max or sum over the middle axis of x as [outer, reduced, inner].
// params: 0 total (outer * inner), 1 groups_x, 2 reduced, 3 inner, 4 max (1) or sum (0)

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let r = param(2u); let inner = param(3u);
    let is_max = param(4u) == 1u;
    let base = (i / inner) * r * inner + i % inner;
    var acc = select(0.0, bitcast<f32>(0xff7fffffu), is_max); // -f32::MAX (Tint rejects the decimal literal)
    for (var k = 0u; k < r; k++) {
        let v = x[base + k * inner];
        acc = select(acc + v, max(acc, v), is_max);
    }
    y[i] = acc;
}
