// A copy that moves each value, over a rank <= 4 view (shapes padded on the left): padding, slicing and
// transposing. Output coordinate c along dimension d reads source coordinate c - offset (the value where
// that falls outside the source's size along d) at the source's stride along d.

struct RearrangeParams {
    total: u32,
    groups_x: u32,
    out_dim0: u32,
    out_dim1: u32,
    out_dim2: u32,
    out_dim3: u32,
    src_stride0: u32,
    src_stride1: u32,
    src_stride2: u32,
    src_stride3: u32,
    src_dim0: u32,
    src_dim1: u32,
    src_dim2: u32,
    src_dim3: u32,
    offset0: i32, // padding before (positive) or slice start (negative)
    offset1: i32,
    offset2: i32,
    offset3: i32,
    value: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: RearrangeParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let out_dims = vec4<u32>(params.out_dim0, params.out_dim1, params.out_dim2, params.out_dim3);
    let strides = vec4<u32>(params.src_stride0, params.src_stride1, params.src_stride2, params.src_stride3);
    let src_dims = vec4<u32>(params.src_dim0, params.src_dim1, params.src_dim2, params.src_dim3);
    let offsets = vec4<i32>(params.offset0, params.offset1, params.offset2, params.offset3);
    var rest = i;
    var src = 0u;
    var inside = true;
    for (var d = 3i; d >= 0i; d--) {
        let c = i32(rest % out_dims[d]) - offsets[d];
        rest = rest / out_dims[d];
        if (c < 0 || c >= i32(src_dims[d])) { inside = false; }
        src += u32(max(c, 0)) * strides[d];
    }
    y[i] = select(params.value, x[src], inside);
}
