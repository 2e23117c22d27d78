// Elementwise functions of one tensor, then an activation.

struct UnaryParams {
    total: u32,
    groups_x: u32,
    op: u32, // UNARY_*
    activation: u32,
    alpha: f32, // the slope of UNARY_LEAKY_RELU
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: UnaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat_index(wid, lid, params.groups_x);
    if (i >= params.total) { return; }
    let v = x[i];
    var r = v;
    switch params.op {
        case UNARY_ABS: { r = abs(v); }
        case UNARY_NEG: { r = -v; }
        case UNARY_EXP: { r = exp(v); }
        case UNARY_LEAKY_RELU: { r = select(v * params.alpha, v, v > 0.0); }
        default: { r = v; } // UNARY_IDENTITY
    }
    y[i] = activate(r, params.activation, 0.0);
}
