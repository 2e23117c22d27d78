// The tile loop of the matmul kernels: C[M x N] = act(A[M x K] . W[N x K]^T + bias), then, with a
// residual, act2(C + R). Each workgroup computes a 64 x 64 tile of C and each of its 16 x 16 invocations a
// 4 x 4 block, through 16-deep slices of A and W in workgroup memory. The slices hold vec4s (four rows of A,
// or four columns of W, at one k), so that the inner loop reads each with one conflict-free access.
// The kernel file before this one declares `params` (m, k, n, activation, residual, residual_activation),
// the bindings `weights` ([N x K] filter, then N biases, then N slopes), `residual` and `c`, and
// `a_value(row, k)`: where A comes from.

const TILE: u32 = 64u;
const TK: u32 = 16u;
// vec4s per k in a slice: 16, and one more, so that the stores of one k-row fall in other banks.
const PITCH: u32 = 17u;
var<workgroup> a_slice: array<vec4<f32>, 272>; // [k][row quad]
var<workgroup> w_slice: array<vec4<f32>, 272>; // [k][column quad]

fn a_or_zero(row: u32, k: u32) -> f32 {
    if (row < params.m) { return a_value(row, k); }
    return 0.0;
}

fn w_or_zero(col: u32, k: u32) -> f32 {
    if (col < params.n) { return weights[col * params.k + k]; }
    return 0.0;
}

// Bias, activation, then the residual and its activation, for four columns of one row.
fn store(row: u32, col0: u32, v: vec4<f32>) {
    if (row >= params.m) { return; }
    let bias_at = params.n * params.k;
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < params.n) {
            var y = activate(v[j] + weights[bias_at + col], params.activation, weights[bias_at + params.n + col]);
            if (params.residual != 0u) {
                y = activate(y + residual[row * params.n + col], params.residual_activation, 0.0);
            }
            c[row * params.n + col] = y;
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    // What this invocation loads of each slice: k (adjacent invocations read adjacent k, one row), and
    // a quad of four rows of A and four columns of W.
    let t = lid.y * 16u + lid.x;
    let lk = t % TK;
    let quad = t / TK;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < params.k; k0 += TK) {
        let k = k0 + lk;
        var av = vec4<f32>(0.0);
        var wv = vec4<f32>(0.0);
        if (k < params.k) {
            let r = row0 + quad * 4u;
            av = vec4<f32>(a_or_zero(r, k), a_or_zero(r + 1u, k), a_or_zero(r + 2u, k), a_or_zero(r + 3u, k));
            let q = col0 + quad * 4u;
            wv = vec4<f32>(w_or_zero(q, k), w_or_zero(q + 1u, k), w_or_zero(q + 2u, k), w_or_zero(q + 3u, k));
        }
        a_slice[lk * PITCH + quad] = av;
        w_slice[lk * PITCH + quad] = wv;
        workgroupBarrier();
        for (var j = 0u; j < TK; j++) {
            let a4 = a_slice[j * PITCH + lid.y];
            let w4 = w_slice[j * PITCH + lid.x];
            acc0 = fma(vec4<f32>(a4.x), w4, acc0);
            acc1 = fma(vec4<f32>(a4.y), w4, acc1);
            acc2 = fma(vec4<f32>(a4.z), w4, acc2);
            acc3 = fma(vec4<f32>(a4.w), w4, acc3);
        }
        workgroupBarrier();
    }
    let r = row0 + lid.y * 4u;
    let col = col0 + lid.x * 4u;
    store(r, col, acc0);
    store(r + 1u, col, acc1);
    store(r + 2u, col, acc2);
    store(r + 3u, col, acc3);
}
