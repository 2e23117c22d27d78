// Shared by every kernel (prepended to each, after the op and activation codes generated from the Rust
// enums): dispatch indexing, activations. Each kernel declares its own parameter struct at binding 0.

// The flat index of this invocation; dispatches are 2-d when one dimension would exceed 65535 groups.
fn flat_index(wid: vec3<u32>, lid: vec3<u32>, groups_x: u32) -> u32 {
    return (wid.y * groups_x + wid.x) * 64u + lid.x;
}

// Applies an activation (ACTIVATION_*); the slope is PReLU's.
fn activate(v: f32, kind: u32, slope: f32) -> f32 {
    switch kind {
        case ACTIVATION_RELU: { return max(v, 0.0); }
        case ACTIVATION_RELU6: { return clamp(v, 0.0, 6.0); }
        case ACTIVATION_RELU_N1_TO1: { return clamp(v, -1.0, 1.0); }
        case ACTIVATION_PRELU: { return select(v * slope, v, v >= 0.0); }
        default: { return v; }
    }
}
