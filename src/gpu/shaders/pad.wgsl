// Zero padding of a rank <= 4 tensor (shapes padded on the left).
// params: 0 total, 1 groups_x, 4..8 output dims, 8..12 input dims, 12..16 padding before

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, param(1u));
    if (i >= param(0u)) { return; }
    var rest = i;
    var src = 0u;
    var stride = 1u;
    var inside = true;
    for (var d = 3i; d >= 0i; d--) {
        let coord = rest % param(4u + u32(d));
        rest = rest / param(4u + u32(d));
        let c = i32(coord) - i32(param(12u + u32(d)));
        let size = param(8u + u32(d));
        if (c < 0 || c >= i32(size)) { inside = false; }
        src += u32(max(c, 0)) * stride;
        stride *= size;
    }
    y[i] = select(0.0, x[src], inside);
}
