// Elementwise a op b with broadcasting (rank <= 4, shapes padded on the left), then an activation.

struct BinaryParams {
    total: u32,
    groups_x: u32,
    op: u32, // BINARY_*
    activation: u32,
    dim0: u32, // output dims
    dim1: u32,
    dim2: u32,
    dim3: u32,
    a_stride0: u32, // 0 where a is broadcast
    a_stride1: u32,
    a_stride2: u32,
    a_stride3: u32,
    b_stride0: u32,
    b_stride1: u32,
    b_stride2: u32,
    b_stride3: u32,
}

@group(0) @binding(0) var<uniform> params: BinaryParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let dims = vec4<u32>(params.dim0, params.dim1, params.dim2, params.dim3);
    let a_strides = vec4<u32>(params.a_stride0, params.a_stride1, params.a_stride2, params.a_stride3);
    let b_strides = vec4<u32>(params.b_stride0, params.b_stride1, params.b_stride2, params.b_stride3);
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = 3i; d >= 0i; d--) {
        let dim = dims[d];
        let coord = rest % dim;
        rest = rest / dim;
        ia += coord * a_strides[d];
        ib += coord * b_strides[d];
    }
    let va = a[ia];
    let vb = b[ib];
    var v = 0.0;
    switch params.op {
        case BINARY_ADD: { v = va + vb; }
        case BINARY_SUB: { v = va - vb; }
        case BINARY_MUL: { v = va * vb; }
        case BINARY_DIV: { v = va / vb; }
        default: { v = select(va * vb, va, va >= 0.0); } // BINARY_PRELU
    }
    y[i] = activate(v, params.activation, 0.0);
}
