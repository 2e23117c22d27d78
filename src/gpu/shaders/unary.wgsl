// Elementwise functions of one tensor.
// params: 0 total, 1 groups_x, 2 op (0 copy, 1 abs, 2 neg, 3 exp, 4 leaky relu), 3 activation, 4 alpha bits

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    let v = x[i];
    var r = v;
    switch param(2u) {
        case 1u: { r = abs(v); }
        case 2u: { r = -v; }
        case 3u: { r = exp(v); }
        case 4u: { r = select(v * bitcast<f32>(param(4u)), v, v > 0.0); }
        default: { r = v; }
    }
    y[i] = activate(r, param(3u), 0.0);
}
