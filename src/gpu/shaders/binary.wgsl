// Elementwise a op b with broadcasting (rank <= 4, shapes padded on the left), then an activation.
// params: 0 total, 1 groups_x, 2 op (0 add, 1 sub, 2 mul, 3 div, 4 prelu), 3 activation,
//         4..8 output dims, 8..12 strides of a (0 where broadcast), 12..16 strides of b

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = 3i; d >= 0i; d--) {
        let dim = param(4u + u32(d));
        let coord = rest % dim;
        rest = rest / dim;
        ia += coord * param(8u + u32(d));
        ib += coord * param(12u + u32(d));
    }
    let va = a[ia];
    let vb = b[ib];
    var v = 0.0;
    switch param(2u) {
        case 0u: { v = va + vb; }
        case 1u: { v = va - vb; }
        case 2u: { v = va * vb; }
        case 3u: { v = va / vb; }
        default: { v = select(va * vb, va, va >= 0.0); }
    }
    y[i] = activate(v, param(3u), 0.0);
}
