// Shared by every kernel (prepended to each): the parameter block, dispatch indexing, activations.
// Parameters are 32 u32 in a uniform buffer; floats travel as their bits.

struct Params {
    v: array<vec4<u32>, 8>,
}

@group(0) @binding(0) var<uniform> params: Params;

fn param(i: u32) -> u32 {
    return params.v[i / 4u][i % 4u];
}

// The flat index of this invocation; dispatches are 2-d when one dimension would exceed 65535 groups.
fn flat_index(wid: vec3<u32>, lid: vec3<u32>, groups_x: u32) -> u32 {
    return (wid.y * groups_x + wid.x) * 64u + lid.x;
}

// Activations: 0 none, 1 relu, 2 relu6, 3 relu_n1_to_1, 4 prelu (slope given).
fn activate(v: f32, kind: u32, slope: f32) -> f32 {
    switch kind {
        case 1u: { return max(v, 0.0); }
        case 2u: { return clamp(v, 0.0, 6.0); }
        case 3u: { return clamp(v, -1.0, 1.0); }
        case 4u: { return select(v * slope, v, v >= 0.0); }
        default: { return v; }
    }
}
