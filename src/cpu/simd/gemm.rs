//! Matrix multiply for convolutions and fully connected layers: C[m][n] = act(A[m][k] . B[k][n] + bias[n]),
//! optionally + S[m][n] before the activation (a residual add; S may have fewer columns, the rest zeros).
//!
//! B (the weights) is packed once at load into panels of 8 columns, each panel [k][8], zero-padded; the
//! micro-kernel holds a 4 x 8 block of C in registers and walks k once. Each output is a running sum over k
//! (from its first product: the reference's 0 + x * w), then the bias: the reference kernels' order, so
//! without fused multiply-add the results match them bit for bit (but for the sign of a zero).

use super::lanes::F4;
use super::{activate4, padded, Act4};
use crate::model::Activation;

/// Columns per panel.
pub const NR: usize = 8;
/// Rows per micro-kernel call.
const MR: usize = 4;

/// Panel width for the x86-64 AVX-512 kernel.
const WIDE: usize = 16;

/// Weights packed for `gemm`, with bias and PReLU slope padded to whole panels (of sixteen, which covers
/// both widths).
#[derive(Debug, Clone)]
pub struct PackedB {
    pub k: usize,
    pub n: usize,
    /// Panels `WIDE` columns wide, for the AVX-512 kernel, instead of `NR` (never, off x86-64).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    wide: bool,
    data: Vec<f32>,
    /// The weights as given ([n][k]) where `wide` and C has `DOT_COLUMNS` columns at most, for
    /// `gemm_dot_avx512`; else empty.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    rows: Vec<f32>,
    bias: Vec<f32>,
    slope: Vec<f32>,
    activation: Activation,
}

impl PackedB {
    /// Packs weights given as `n` rows of `k` (OHWI or [out, in], as TFLite stores them).
    pub fn new(weights: &[f32], n: usize, k: usize, bias: &[f32], slope: &[f32], activation: Activation) -> PackedB {
        #[cfg(target_arch = "x86_64")]
        let wide = super::x86::avx512();
        #[cfg(not(target_arch = "x86_64"))]
        let wide = false;
        let width = if wide { WIDE } else { NR };
        let panels = n.div_ceil(width);
        let mut data = vec![0.0; panels * k * width];
        for col in 0..n {
            let (panel, lane) = (col / width, col % width);
            for kk in 0..k {
                data[(panel * k + kk) * width + lane] = weights[col * k + kk];
            }
        }
        #[cfg(target_arch = "x86_64")]
        let rows = if wide && n <= super::x86::DOT_COLUMNS { weights[..n * k].to_vec() } else { Vec::new() };
        #[cfg(not(target_arch = "x86_64"))]
        let rows = Vec::new();
        let padded_n = n.div_ceil(WIDE) * WIDE;
        PackedB { k, n, wide, data, rows, bias: padded(bias, padded_n), slope: padded(slope, padded_n), activation }
    }
}

/// A tensor added to the product before the activation: rows of `channels` values, one per row of C.
#[derive(Clone, Copy)]
pub struct Skip<'a> {
    pub data: &'a [f32],
    pub channels: usize,
}

impl<'a> Skip<'a> {
    fn row(&self, r: usize) -> &'a [f32] {
        &self.data[r * self.channels..][..self.channels]
    }
}

/// C = act(A . B + bias (+ skip)) for `m` rows of A, each `b.k` wide and contiguous; C rows are `b.n` wide.
pub fn gemm(a: &[f32], m: usize, b: &PackedB, skip: Option<Skip>, c: &mut [f32]) {
    let (k, n) = (b.k, b.n);
    debug_assert!(a.len() >= m * k && c.len() >= m * n);
    debug_assert!(skip.is_none_or(|s| s.channels <= n && s.data.len() >= m * s.channels));
    // Where the CPU has AVX-512, every row goes through its kernel.
    #[cfg(target_arch = "x86_64")]
    if b.wide {
        // SAFETY: weights are packed wide only where the CPU has AVX-512.
        unsafe { gemm_avx512(a, m, b, skip, c) };
        return;
    }
    // Where the CPU has AVX2 and FMA, rows go six at a time through its kernel; the rest as below.
    #[cfg(target_arch = "x86_64")]
    // SAFETY: only where the CPU has them.
    let row = if super::x86::avx2_fma() { unsafe { gemm_rows_avx2_fma(a, m, b, skip, c) } } else { 0 };
    #[cfg(not(target_arch = "x86_64"))]
    let row = 0;
    // Rows four at a time: the first panels through `quads` (all of them but a last part panel and the
    // panel a skip ends inside), the rest here.
    let (end, fast) = (row + (m - row) / MR * MR, fast_panels(n, skip));
    let act = Act4::of(b.activation);
    match act {
        Act4::Identity => quads::<IDENTITY>(a, row..end, fast, b, skip, c, act),
        Act4::Clamp(..) => quads::<CLAMP>(a, row..end, fast, b, skip, c, act),
        Act4::Prelu => quads::<PRELU>(a, row..end, fast, b, skip, c, act),
    }
    for row in (row..end).step_by(MR) {
        for panel in fast..n.div_ceil(NR) {
            let rows = &a[row * k..][..MR * k];
            let weights = &b.data[panel * k * NR..][..k * NR];
            // A last panel of at most four real columns needs only half the work.
            let acc =
                if n - panel * NR <= 4 { kernel_4x8::<1>(rows, k, weights) } else { kernel_4x8::<2>(rows, k, weights) };
            let col0 = panel * NR;
            // The panel's columns that exist, whole halves only; the skip covers them, or none of them (the
            // columns a skip lacks are zeros).
            let width = (n - col0).min(NR);
            let skip_here = skip.filter(|s| s.channels > col0);
            if width.is_multiple_of(4) && skip_here.is_none_or(|s| s.channels >= col0 + width) {
                if width == NR {
                    store_quad::<2>(b, &acc, act, skip_here, row, col0, c);
                } else {
                    store_quad::<1>(b, &acc, act, skip_here, row, col0, c);
                }
            } else {
                for (r, acc) in acc.iter().enumerate() {
                    store(b, panel, acc, skip.map(|s| s.row(row + r)), &mut c[(row + r) * n..][..n]);
                }
            }
        }
    }
    for row in end..m {
        for panel in 0..n.div_ceil(NR) {
            let acc = kernel_1x8(&a[row * k..][..k], &b.data[panel * k * NR..][..k * NR]);
            store(b, panel, &acc, skip.map(|s| s.row(row)), &mut c[row * n..][..n]);
        }
    }
}

/// `quads`' activation, a const parameter (`Act4`'s cases).
const IDENTITY: u8 = 0;
const CLAMP: u8 = 1;
const PRELU: u8 = 2;

/// How many of C's first panels `quads` takes: the whole ones up to the one a skip ends inside, if any (a
/// skip covers every panel of `quads` wholly or not at all; the columns it lacks are zeros).
fn fast_panels(n: usize, skip: Option<Skip>) -> usize {
    let skip_end = skip.filter(|s| !s.channels.is_multiple_of(NR)).map_or(usize::MAX, |s| s.channels / NR);
    (n / NR).min(skip_end)
}

/// Rows `rows` (four at a time) by C's first `panels` panels (`fast_panels`), with activation `ACT` (`act`'s
/// case; `act` gives the clamp's bounds). Other cases stay out of this loop: as branches never taken, they
/// made V8's code for it 1-2% slower.
fn quads<const ACT: u8>(
    a: &[f32],
    rows: std::ops::Range<usize>,
    panels: usize,
    b: &PackedB,
    skip: Option<Skip>,
    c: &mut [f32],
    act: Act4,
) {
    let (k, n, m) = (b.k, b.n, rows.end);
    let bounds = match act {
        Act4::Clamp(lo, hi) => (lo, hi),
        _ => (F4::splat(0.0), F4::splat(0.0)),
    };
    // What lets `quad_tile` write C and read the skip, bias and slope unchecked.
    assert!(panels * NR <= n && c.len() >= m * n && b.bias.len().min(b.slope.len()) >= n);
    assert!(skip.is_none_or(|s| s.channels <= n && s.data.len() >= m * s.channels));
    for row in rows.step_by(MR) {
        let quad = &a[row * k..][..MR * k];
        for panel in 0..panels {
            let (col0, weights) = (panel * NR, &b.data[panel * k * NR..][..k * NR]);
            let tile = (quad, k, weights);
            // SAFETY: rows row..row + 4 <= m and columns col0..col0 + 8 <= n, checked above; a skip with a
            // column of the panel has all eight (`fast_panels`).
            match skip.filter(|s| s.channels > col0) {
                Some(_) => unsafe { quad_tile::<ACT, true>(tile, b, bounds, skip, (row, col0), c) },
                None => unsafe { quad_tile::<ACT, false>(tile, b, bounds, None, (row, col0), c) },
            }
        }
    }
}

/// Four rows (`rows`, each `k` long) by a whole panel (`weights`): the products, then bias, the skip
/// (`SKIP`), activation `ACT` (the clamp's `bounds`) and the stores, in one function so that the sums stay in
/// registers (returned to a separate store function, V8's code wrote all eight to memory and read them back),
/// with no branch per vector on the activation or the skip.
///
/// # Safety
/// Rows `row..row + MR` of C and of the skip exist, columns `col0..col0 + NR` lie within C's `n` (and so
/// within the bias and slope), and within the skip's channels where `SKIP`.
#[inline(always)]
unsafe fn quad_tile<const ACT: u8, const SKIP: bool>(
    (rows, k, weights): (&[f32], usize, &[f32]),
    b: &PackedB,
    (lo, hi): (F4, F4),
    skip: Option<Skip>,
    (row, col0): (usize, usize),
    c: &mut [f32],
) {
    let acc = kernel_4x8::<2>(rows, k, weights);
    let zero = F4::splat(0.0);
    // SAFETY: the caller's promise.
    unsafe {
        let bias = [F4::load_unchecked(&b.bias, col0), F4::load_unchecked(&b.bias, col0 + 4)];
        let slope = [F4::load_unchecked(&b.slope, col0), F4::load_unchecked(&b.slope, col0 + 4)];
        for (r, acc) in acc.into_iter().enumerate() {
            for h in 0..2 {
                let mut v = acc[h] + bias[h];
                if let (true, Some(s)) = (SKIP, skip) {
                    v = v + F4::load_unchecked(s.data, (row + r) * s.channels + col0 + 4 * h);
                }
                v = match ACT {
                    CLAMP => v.max(lo).min(hi),
                    PRELU => v.max(zero) + slope[h] * v.min(zero),
                    _ => v,
                };
                v.store_unchecked(c, (row + r) * b.n + col0 + 4 * h);
            }
        }
    }
}

/// All of C through the AVX-512 kernel: rows eight at a time (the last few from a zero-padded copy), two
/// panels of sixteen columns per call (one for an odd last panel).
///
/// # Safety
/// The CPU has AVX-512F, and `b` is packed wide.
#[cfg(target_arch = "x86_64")]
unsafe fn gemm_avx512(a: &[f32], m: usize, b: &PackedB, skip: Option<Skip>, c: &mut [f32]) {
    use super::x86::{gemm_8x32_avx512, gemm_dot_avx512, Epilogue, AVX512_ROWS};
    let (k, n, panels) = (b.k, b.n, b.n.div_ceil(WIDE));
    if !b.rows.is_empty() {
        let skip = skip.map(|s| (s.data, s.channels));
        let epilogue = Epilogue { bias: &b.bias, slope: &b.slope, activation: b.activation, n, skip };
        // SAFETY: the caller's promise (AVX-512F).
        unsafe { gemm_dot_avx512(a, m, k, &b.rows, &epilogue, c) };
        return;
    }
    let mut tail = Vec::new();
    for row in (0..m).step_by(AVX512_ROWS) {
        let rows = AVX512_ROWS.min(m - row);
        let block = if rows == AVX512_ROWS {
            &a[row * k..][..AVX512_ROWS * k]
        } else {
            tail.resize(AVX512_ROWS * k, 0.0);
            tail[..rows * k].copy_from_slice(&a[row * k..][..rows * k]);
            &tail[..]
        };
        let epilogue = Epilogue {
            bias: &b.bias,
            slope: &b.slope,
            activation: b.activation,
            n,
            skip: skip.map(|s| (&s.data[row * s.channels..][..rows * s.channels], s.channels)),
        };
        let out = &mut c[row * n..][..rows * n];
        for first in (0..panels).step_by(2) {
            let weights = &b.data[first * k * WIDE..];
            // SAFETY: the caller's promise; the block holds 8 rows of k, the panels and the padded bias and
            // slope reach the last column, `out` and the skip hold `rows` rows.
            unsafe {
                if first + 1 < panels {
                    gemm_8x32_avx512::<2>(block, k, weights, first * WIDE, rows, &epilogue, out);
                } else {
                    gemm_8x32_avx512::<1>(block, k, weights, first * WIDE, rows, &epilogue, out);
                }
            }
        }
    }
}

/// The first rows of C, six at a time, through the AVX2 + FMA kernel (two panels per call; an odd last
/// panel goes with itself, its second copy dropped). Returns how many rows it did.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
unsafe fn gemm_rows_avx2_fma(a: &[f32], m: usize, b: &PackedB, skip: Option<Skip>, c: &mut [f32]) -> usize {
    use super::x86::{gemm_6x16_avx2_fma, Epilogue, ROWS};
    let (k, n, panels) = (b.k, b.n, b.n.div_ceil(NR));
    let panel_data = |p: usize| &b.data[p * k * NR..][..k * NR];
    let mut row = 0;
    while row + ROWS <= m {
        let skip = skip.map(|s| (&s.data[row * s.channels..][..ROWS * s.channels], s.channels));
        let epilogue = Epilogue { bias: &b.bias, slope: &b.slope, activation: b.activation, n, skip };
        let out = &mut c[row * n..][..ROWS * n];
        for first in (0..panels).step_by(2) {
            let second = (first + 1).min(panels - 1);
            // SAFETY: the caller's promise; the kernel checks its reads and writes (the columns of a dropped
            // second copy lie past `n`, so they are not stored).
            unsafe {
                gemm_6x16_avx2_fma(
                    &a[row * k..],
                    k,
                    [panel_data(first), panel_data(second)],
                    first * NR,
                    &epilogue,
                    out,
                )
            };
        }
        row += ROWS;
    }
    row
}

/// Four rows by `HALVES` x 4 columns of one panel (HALVES = 2: the whole panel).
#[inline(always)]
fn kernel_4x8<const HALVES: usize>(a: &[f32], k: usize, panel: &[f32]) -> [[F4; 2]; MR] {
    let mut acc = [[F4::splat(0.0); 2]; MR];
    let (a0, a1, a2, a3) = (&a[..k], &a[k..2 * k], &a[2 * k..3 * k], &a[3 * k..4 * k]);
    // Zipped iterators: no index, so no bounds checks in the hottest loop.
    let mut steps = a0.iter().zip(a1).zip(a2).zip(a3).zip(panel.chunks_exact(NR));
    // The first step's products start the sums: the reference's 0 + x * w is x * w (but for the sign of a
    // zero), one add fewer per sum.
    if let Some(((((&x0, &x1), &x2), &x3), w)) = steps.next() {
        let wv = [F4::load(&w[..4]), F4::load(&w[4..])];
        for (acc, x) in acc.iter_mut().zip([x0, x1, x2, x3]) {
            let x = F4::splat(x);
            for h in 0..HALVES {
                acc[h] = x * wv[h];
            }
        }
    }
    for ((((&x0, &x1), &x2), &x3), w) in steps {
        let wv = [F4::load(&w[..4]), F4::load(&w[4..])];
        for (acc, x) in acc.iter_mut().zip([x0, x1, x2, x3]) {
            let x = F4::splat(x);
            for h in 0..HALVES {
                acc[h] = acc[h].mul_add(x, wv[h]);
            }
        }
    }
    acc
}

#[inline(always)]
fn kernel_1x8(a: &[f32], panel: &[f32]) -> [F4; 2] {
    let mut acc = [F4::splat(0.0); 2];
    for (&x, w) in a.iter().zip(panel.chunks_exact(NR)) {
        let x = F4::splat(x);
        acc[0] = acc[0].mul_add(x, F4::load(&w[..4]));
        acc[1] = acc[1].mul_add(x, F4::load(&w[4..]));
    }
    acc
}

/// `store` for four rows of `HALVES` x 4 columns of a panel, which the skip (if any) covers: the activation
/// decided once per call (`act`), bias and slope loaded once, and one range check for the quad instead of
/// one per access. (In V8's code for BlazeFace short range, about 30% of the GEMM's time was outside its
/// inner loop, most of it in `store`; with this, BlazeFace runs 10-13% faster in WebAssembly and
/// MobileFaceNet 6-7%.)
#[inline(always)]
fn store_quad<const HALVES: usize>(
    b: &PackedB,
    acc: &[[F4; 2]; MR],
    act: Act4,
    skip: Option<Skip>,
    row: usize,
    col0: usize,
    c: &mut [f32],
) {
    let (n, width) = (b.n, 4 * HALVES);
    assert!((row + MR - 1) * n + col0 + width <= c.len() && col0 + width <= n);
    if let Some(s) = skip {
        assert!((row + MR - 1) * s.channels + col0 + width <= s.data.len() && col0 + width <= s.channels);
    }
    let bias = [F4::load(&b.bias[col0..]), F4::load(&b.bias[col0 + 4..])];
    let slope = [F4::load(&b.slope[col0..]), F4::load(&b.slope[col0 + 4..])];
    for (r, acc) in acc.iter().enumerate() {
        let at = (row + r) * n + col0;
        for h in 0..HALVES {
            let mut v = acc[h] + bias[h];
            if let Some(s) = skip {
                // SAFETY: within the skip's range checked above.
                v = v + unsafe { F4::load_unchecked(s.data, (row + r) * s.channels + col0 + 4 * h) };
            }
            let v = act.apply(v, slope[h]);
            // SAFETY: at + 4 * h + 4 <= (row + MR - 1) * n + col0 + width <= c.len(), checked above.
            unsafe { v.store_unchecked(c, at + 4 * h) };
        }
    }
}

/// Adds the bias (then the skip row's values), applies the activation and writes one row's panel (only the
/// columns that exist).
#[inline(always)]
fn store(b: &PackedB, panel: usize, acc: &[F4; 2], skip_row: Option<&[f32]>, out_row: &mut [f32]) {
    let col0 = panel * NR;
    let done = |h: usize| {
        let at = col0 + 4 * h;
        let mut v = acc[h] + F4::load(&b.bias[at..]);
        if let Some(s) = skip_row {
            v = v + skip_lanes(s, at);
        }
        activate4(v, b.activation, F4::load(&b.slope[at..]))
    };
    if col0 + NR <= b.n {
        done(0).store(&mut out_row[col0..]);
        done(1).store(&mut out_row[col0 + 4..]);
        return;
    }
    store_partial([done(0), done(1)], &mut out_row[col0..]);
}

/// The first `out.len()` (< 8) lanes of a last, partial panel, copied a known number at a time: a copy of a
/// length known only at run time is a `memcpy` call (in WebAssembly, V8's `memmove`) per row, which made
/// BlazeFace full range's one-channel classifier head run at a tenth of the speed of its other layers. Kept
/// out of line, so that `gemm`'s hot loop keeps its registers.
#[inline(never)]
fn store_partial(v: [F4; 2], out: &mut [f32]) {
    let mut lanes = [0.0f32; NR];
    v[0].store(&mut lanes[..4]);
    v[1].store(&mut lanes[4..]);
    match out.len() {
        1 => out.copy_from_slice(&lanes[..1]),
        2 => out.copy_from_slice(&lanes[..2]),
        3 => out.copy_from_slice(&lanes[..3]),
        4 => out.copy_from_slice(&lanes[..4]),
        5 => out.copy_from_slice(&lanes[..5]),
        6 => out.copy_from_slice(&lanes[..6]),
        7 => out.copy_from_slice(&lanes[..7]),
        len => out.copy_from_slice(&lanes[..len]),
    }
}

/// Four values of a skip row from column `at`; columns past its end are zeros.
#[inline(always)]
fn skip_lanes(row: &[f32], at: usize) -> F4 {
    if at + 4 <= row.len() {
        return F4::load(&row[at..]);
    }
    let mut lanes = [0.0f32; 4];
    for (l, v) in lanes.iter_mut().zip(row.iter().skip(at)) {
        *l = *v;
    }
    F4::load(&lanes)
}
