// C = act(A . W^T + bias) (+ residual): 1x1 convolutions (A = pixels x channels) and fully connected
// layers, A read from memory. The tile loop is matmul_tile.wgsl, appended.

struct MatmulParams {
    m: u32,
    k: u32,
    n: u32,
    activation: u32,
    residual: u32,
    residual_activation: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

fn a_value(row: u32, k: u32) -> f32 {
    return a[row * params.k + k];
}
