// C[M x N] = act(A[M x K] . W[N x K]^T + bias): 1x1 convolutions (A = pixels x channels) and fully
// connected layers. Each workgroup computes a 64 x 64 tile of C, each of its 16 x 16 invocations a 4 x 4
// block, through 64 x 16 tiles of A and W in workgroup memory (8 KiB).

struct MatmulParams {
    m: u32,
    k: u32,
    n: u32,
    activation: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> slope: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const TK: u32 = 16u;
var<workgroup> a_tile: array<f32, 1024>; // [64 rows][16 k]
var<workgroup> w_tile: array<f32, 1024>; // [64 cols][16 k]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let m = params.m;
    let k = params.k;
    let n = params.n;
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let t = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < k; k0 += TK) {
        // 256 invocations load 1024 values of each tile: 4 each.
        for (var j = 0u; j < 4u; j++) {
            let e = t * 4u + j;
            let r = e / TK;
            let kk = k0 + e % TK;
            var av = 0.0;
            if (row0 + r < m && kk < k) { av = a[(row0 + r) * k + kk]; }
            a_tile[e] = av;
            var wv = 0.0;
            if (col0 + r < n && kk < k) { wv = w[(col0 + r) * k + kk]; }
            w_tile[e] = wv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var av: array<f32, 4>;
            var wv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = a_tile[(lid.y * 4u + i) * TK + kk];
                wv[i] = w_tile[(lid.x * 4u + i) * TK + kk];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(av[i], wv[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y * 4u + i;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if (r < m && col < n) {
                c[r * n + col] = activate(acc[i * 4u + j] + bias[col], params.activation, slope[col]);
            }
        }
    }
}
