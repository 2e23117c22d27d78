// Zero padding of a rank <= 4 tensor (shapes padded on the left).

struct PadParams {
    total: u32,
    groups_x: u32,
    out_dim0: u32,
    out_dim1: u32,
    out_dim2: u32,
    out_dim3: u32,
    in_dim0: u32,
    in_dim1: u32,
    in_dim2: u32,
    in_dim3: u32,
    before0: u32, // padding before each dimension
    before1: u32,
    before2: u32,
    before3: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: PadParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let out_dims = vec4<u32>(params.out_dim0, params.out_dim1, params.out_dim2, params.out_dim3);
    let in_dims = vec4<u32>(params.in_dim0, params.in_dim1, params.in_dim2, params.in_dim3);
    let before = vec4<u32>(params.before0, params.before1, params.before2, params.before3);
    var rest = i;
    var src = 0u;
    var stride = 1u;
    var inside = true;
    for (var d = 3i; d >= 0i; d--) {
        let coord = rest % out_dims[d];
        rest = rest / out_dims[d];
        let c = i32(coord) - i32(before[d]);
        let size = in_dims[d];
        if (c < 0 || c >= i32(size)) { inside = false; }
        src += u32(max(c, 0)) * stride;
        stride *= size;
    }
    y[i] = select(0.0, x[src], inside);
}
