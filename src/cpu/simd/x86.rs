//! x86-64 kernels chosen at run time (`level`): the build itself targets plain x86-64 (SSE2), whose kernels
//! stay as they are for CPUs without more. Where the CPU has AVX2 and FMA, the GEMM and the depthwise runs
//! go eight lanes at a time with fused multiply-add; where it also has AVX-512, the GEMM
//! (`gemm_8x32_avx512`, with its weights packed sixteen columns wide) and the 3x3 depthwise runs go sixteen
//! lanes at a time (other depthwise filters stay with AVX2). Each kernel here computes
//! what its SSE counterpart does, within rounding of the scalar reference (fused multiply-add), and is tested
//! against the reference like the others (`tests/kernels.rs`, run once more with `LOCALFACE_KERNELS=sse`
//! and `LOCALFACE_KERNELS=avx2` for the paths this CPU would not take by itself).

use crate::cpu::reference::activate;
use crate::model::Activation;
use core::arch::x86_64::*;
use std::sync::OnceLock;

/// The instruction sets the kernels use, from the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Sse,
    Avx2Fma,
    Avx512,
}

/// The best level this CPU has, or less where `LOCALFACE_KERNELS` (`sse`, `avx2`) asks for less. Read once.
pub fn level() -> Level {
    static CHOICE: OnceLock<Level> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let asked = std::env::var("LOCALFACE_KERNELS").unwrap_or_default();
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        let avx512 = avx2 && is_x86_feature_detected!("avx512f");
        match asked.as_str() {
            "sse" => Level::Sse,
            _ if avx512 && asked != "avx2" => Level::Avx512,
            _ if avx2 => Level::Avx2Fma,
            _ => Level::Sse,
        }
    })
}

/// Whether the AVX2 + FMA kernels run (also at the AVX-512 level, for what has no AVX-512 kernel).
pub fn avx2_fma() -> bool {
    level() >= Level::Avx2Fma
}

/// Whether the AVX-512 GEMM runs.
pub fn avx512() -> bool {
    level() == Level::Avx512
}

/// The kernels' name, as `simd::arch` reports it.
pub fn name() -> &'static str {
    match level() {
        Level::Avx512 => "x86_64 avx-512 + avx2 + fma",
        Level::Avx2Fma => "x86_64 avx2 + fma",
        Level::Sse => super::lanes::NAME,
    }
}

/// Rows of A per `gemm_8x32_avx512` call.
pub const AVX512_ROWS: usize = 8;

/// What `gemm_8x32_avx512` does with its sums before it stores them: the bias, the skip rows' values (where
/// the skip has that column), the activation, as `gemm::store` does. `bias` and `slope` are padded to whole
/// panels of sixteen.
pub struct Epilogue<'a> {
    pub bias: &'a [f32],
    pub slope: &'a [f32],
    pub activation: Activation,
    /// Columns of C (and of a row of `out`).
    pub n: usize,
    /// The skip tensor from this block's first row, and its columns.
    pub skip: Option<(&'a [f32], usize)>,
}

/// Eight rows of A (each `k` long, one after the other in `a`) times `COLS` panels of B sixteen columns wide
/// ([k][16] each, one after the other in `panels`), the first at column `col0`: sixteen accumulators at
/// most, each step of k loading `COLS` weight vectors for `8 * COLS` fused multiply-adds (the rows' values
/// broadcast from memory). The first `rows` rows go through `epilogue` into `out` (rows `n` long, from this
/// block's first row), only the columns that exist.
///
/// # Safety
/// The CPU has AVX-512F (`avx512()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx512f")]
pub unsafe fn gemm_8x32_avx512<const COLS: usize>(
    a: &[f32],
    k: usize,
    panels: &[f32],
    col0: usize,
    rows: usize,
    epilogue: &Epilogue,
    out: &mut [f32],
) {
    let (a, panels) = (&a[..AVX512_ROWS * k], &panels[..COLS * k * 16]);
    assert!(rows <= AVX512_ROWS && out.len() >= (rows - 1) * epilogue.n + epilogue.n.min(col0 + COLS * 16));
    assert!(epilogue.bias.len() >= col0 + COLS * 16 && epilogue.slope.len() >= col0 + COLS * 16);
    assert!(epilogue.skip.is_none_or(|(skip, channels)| skip.len() >= rows * channels));
    let mut acc = [[_mm512_setzero_ps(); COLS]; AVX512_ROWS];
    for kk in 0..k {
        // SAFETY: `kk < k`, and each panel holds k rows of 16; loadu allows unaligned addresses.
        let w: [__m512; COLS] =
            std::array::from_fn(|c| unsafe { _mm512_loadu_ps(panels.as_ptr().add((c * k + kk) * 16)) });
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `r * k + kk < 8 * k`, the length of `a`.
            let x = _mm512_set1_ps(unsafe { *a.get_unchecked(r * k + kk) });
            for c in 0..COLS {
                acc[c] = _mm512_fmadd_ps(x, w[c], acc[c]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate().take(rows) {
        for (c, &sums) in acc.iter().enumerate() {
            let col = col0 + c * 16;
            let width = epilogue.n.saturating_sub(col).min(16);
            if width == 0 {
                continue;
            }
            // SAFETY: the asserts above (bias, slope, the row of `out` and of the skip reach the lanes used), and
            // masked lanes are neither read nor written.
            unsafe {
                let mut v = _mm512_add_ps(sums, _mm512_loadu_ps(epilogue.bias.as_ptr().add(col)));
                if let Some((skip, channels)) = epilogue.skip {
                    let present = channels.saturating_sub(col).min(16);
                    if present > 0 {
                        let values = _mm512_maskz_loadu_ps(lanes(present), skip.as_ptr().add(r * channels + col));
                        v = _mm512_add_ps(v, values);
                    }
                }
                let slope = _mm512_loadu_ps(epilogue.slope.as_ptr().add(col));
                let v = activate16(v, epilogue.activation, slope);
                _mm512_mask_storeu_ps(out.as_mut_ptr().add(r * epilogue.n + col), lanes(width), v);
            }
        }
    }
}

/// C = act(A . W + bias (+ skip)) for a C too narrow for the panels (`DOT_COLUMNS` columns at most, such as
/// BlazeFace full range's one-channel score head, where fifteen of every sixteen lanes of the panel kernel's
/// multiply-adds were zeros: 2 GMAC/s against its usual 20-40): each output one dot product of a row of A
/// with a row of `weights` ([n][k], as TFLite stores them), sixteen products at a time, summed across the
/// lanes at the end; then `epilogue` as the panel kernel applies it.
///
/// # Safety
/// The CPU has AVX-512F (`avx512()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx512f")]
pub unsafe fn gemm_dot_avx512(a: &[f32], m: usize, k: usize, weights: &[f32], epilogue: &Epilogue, out: &mut [f32]) {
    let n = epilogue.n;
    assert!(a.len() >= m * k && weights.len() >= n * k && out.len() >= m * n);
    assert!(epilogue.bias.len() >= n && epilogue.slope.len() >= n);
    assert!(epilogue.skip.is_none_or(|(skip, channels)| skip.len() >= m * channels));
    let whole = k / 16 * 16;
    for (r, out_row) in out.chunks_exact_mut(n).take(m).enumerate() {
        for (j, out) in out_row.iter_mut().enumerate() {
            let (row, w) = (a[r * k..][..k].as_ptr(), weights[j * k..][..k].as_ptr());
            let mut acc = _mm512_setzero_ps();
            // SAFETY: kk + 16 <= whole <= k, the length of both rows; masked lanes are not read.
            unsafe {
                for kk in (0..whole).step_by(16) {
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(row.add(kk)), _mm512_loadu_ps(w.add(kk)), acc);
                }
                if whole < k {
                    let mask = lanes(k - whole);
                    let (x, w) =
                        (_mm512_maskz_loadu_ps(mask, row.add(whole)), _mm512_maskz_loadu_ps(mask, w.add(whole)));
                    acc = _mm512_fmadd_ps(x, w, acc);
                }
            }
            let mut v = _mm512_reduce_add_ps(acc) + epilogue.bias[j];
            if let Some((skip, channels)) = epilogue.skip.filter(|&(_, channels)| j < channels) {
                v += skip[r * channels + j];
            }
            *out = activate(v, epilogue.activation, epilogue.slope, j);
        }
    }
}

/// The widest C that `gemm_dot_avx512` computes (at three columns and more the panel kernel is as fast).
pub const DOT_COLUMNS: usize = 2;

/// The mask of the first `count` (1..=16) lanes.
#[inline(always)]
fn lanes(count: usize) -> __mmask16 {
    ((1u32 << count) - 1) as __mmask16
}

/// `simd::activate4` on sixteen lanes (PReLU as max(v, 0) + slope * min(v, 0), as there).
#[inline]
#[target_feature(enable = "avx512f")]
fn activate16(v: __m512, activation: Activation, slope: __m512) -> __m512 {
    let zero = _mm512_setzero_ps();
    match activation {
        Activation::None => v,
        Activation::Relu => _mm512_max_ps(v, zero),
        Activation::Relu6 => _mm512_min_ps(_mm512_max_ps(v, zero), _mm512_set1_ps(6.0)),
        Activation::ReluN1To1 => _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1.0)), _mm512_set1_ps(1.0)),
        Activation::Prelu => _mm512_add_ps(_mm512_max_ps(v, zero), _mm512_mul_ps(slope, _mm512_min_ps(v, zero))),
    }
}

/// Rows of A per `gemm_6x16_avx2_fma` call.
pub const ROWS: usize = 6;

/// Six rows of A (each `k` long, one after the other in `a`) times two packed panels of B ([k][8] each), the
/// first at column `col0`: twelve accumulators, two weight vectors and a broadcast fill the sixteen
/// registers, and each step of k loads 8 values for 12 fused multiply-adds. The sums go through `epilogue`
/// into `out` (rows `n` long, from this block's first row) as `gemm_8x32_avx512`'s do, only the columns that
/// exist. (They went back through memory to the SSE `gemm::store` before: BlazeFace full range's depth-8
/// joins ran at 7-8 GMAC/s with AVX2 against 11-15 with AVX-512.)
///
/// # Safety
/// The CPU has AVX2 and FMA (`avx2_fma()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gemm_6x16_avx2_fma(
    a: &[f32],
    k: usize,
    panels: [&[f32]; 2],
    col0: usize,
    epilogue: &Epilogue,
    out: &mut [f32],
) {
    let a = &a[..ROWS * k];
    let (p0, p1) = (&panels[0][..k * 8], &panels[1][..k * 8]);
    let n = epilogue.n;
    assert!(out.len() >= (ROWS - 1) * n + n.min(col0 + 16));
    assert!(epilogue.bias.len() >= col0 + 16 && epilogue.slope.len() >= col0 + 16);
    assert!(epilogue.skip.is_none_or(|(skip, channels)| skip.len() >= ROWS * channels));
    let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
    for kk in 0..k {
        // SAFETY: `kk < k` and each panel holds k rows of 8; loadu allows unaligned addresses.
        let w = unsafe { [_mm256_loadu_ps(p0.as_ptr().add(kk * 8)), _mm256_loadu_ps(p1.as_ptr().add(kk * 8))] };
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `r * k + kk < ROWS * k`, the length of `a`.
            let x = _mm256_set1_ps(unsafe { *a.get_unchecked(r * k + kk) });
            acc[0] = _mm256_fmadd_ps(x, w[0], acc[0]);
            acc[1] = _mm256_fmadd_ps(x, w[1], acc[1]);
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (h, &sums) in acc.iter().enumerate() {
            let col = col0 + 8 * h;
            let width = n.saturating_sub(col).min(8);
            if width == 0 {
                continue;
            }
            // SAFETY: the asserts above (bias, slope, the row of `out` and of the skip reach the lanes used), and
            // masked lanes are neither read nor written.
            unsafe {
                let mut v = _mm256_add_ps(sums, _mm256_loadu_ps(epilogue.bias.as_ptr().add(col)));
                if let Some((skip, channels)) = epilogue.skip {
                    let present = channels.saturating_sub(col).min(8);
                    if present > 0 {
                        v = _mm256_add_ps(
                            v,
                            _mm256_maskload_ps(skip.as_ptr().add(r * channels + col), lanes8(present)),
                        );
                    }
                }
                let v = activate8(v, epilogue.activation, _mm256_loadu_ps(epilogue.slope.as_ptr().add(col)));
                let at = out.as_mut_ptr().add(r * n + col);
                if width == 8 {
                    _mm256_storeu_ps(at, v);
                } else {
                    _mm256_maskstore_ps(at, lanes8(width), v);
                }
            }
        }
    }
}

/// `depthwise::Depthwise::pixels::<8>` on AVX2 + FMA for channels `ch..ch + 8`: eight output pixels with the
/// same taps, the first at input offset `base` and each `pixel_step` floats after the last; `taps` are (input
/// offset, filter offset) pairs. Gives each pixel's eight running sums (before bias and activation).
///
/// # Safety
/// The CPU has AVX2 and FMA (`avx2_fma()`), and every read is inside `x` and `filter`: for each tap,
/// `base + offset + 7 * pixel_step + ch + 8 <= x.len()` and `filter offset + ch + 8 <= filter.len()`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn depthwise_8x8_avx2_fma(
    x: &[f32],
    filter: &[f32],
    base: usize,
    pixel_step: usize,
    taps: &[(usize, usize)],
    ch: usize,
) -> [[f32; 8]; 8] {
    let mut acc = [_mm256_setzero_ps(); 8];
    for &(xi, wi) in taps {
        // SAFETY: the caller's bounds (see above).
        unsafe {
            let weight = _mm256_loadu_ps(filter.as_ptr().add(wi + ch));
            let at = x.as_ptr().add(base.wrapping_add(xi) + ch);
            for (j, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(_mm256_loadu_ps(at.add(j * pixel_step)), weight, *a);
            }
        }
    }
    let mut out = [[0.0f32; 8]; 8];
    for (px, v) in out.iter_mut().zip(acc) {
        // SAFETY: a pixel's row holds eight f32.
        unsafe { _mm256_storeu_ps(px.as_mut_ptr(), v) };
    }
    out
}

/// Where `depthwise_slide8_avx512` reads: eight output pixels of one row, the first's tap (0, 0) at input
/// offset `base`, `c` channels; filter rows `ky` inside the input, `step_y` floats apart in the input; the
/// filter's taps `c4` floats apart.
#[derive(Clone, Copy)]
pub struct DepthwiseRun {
    pub base: usize,
    pub c: usize,
    pub ky: (usize, usize),
    pub step_y: usize,
    pub c4: usize,
}

impl DepthwiseRun {
    /// Checks every read and write of a sliding kernel over `n` pixels whose filter rows span `span` input
    /// pixels (at most the kernels' inputs array: stride 2) against the slices: the kernels' safety. Gives the
    /// channels to do, up to the last multiple of four.
    #[inline(always)]
    fn check(&self, n: usize, span: usize, x: &[f32], filter: &[f32], params: [&[f32]; 2], out: &[f32]) -> usize {
        let DepthwiseRun { base, c, ky, step_y, c4 } = *self;
        let channels = c / 4 * 4;
        assert!(span <= (n - 1) * 2 + 3 && ky.0 < ky.1 && channels <= c4);
        let row_len = (span - 1) * c + channels;
        assert!(super::rows_within(base, ky, step_y, row_len, x.len()), "depthwise taps beyond the input");
        assert!(ky.1 * 3 * c4 <= filter.len() && params.iter().all(|p| p.len() >= channels));
        assert!(out.len() >= (n - 1) * c + channels);
        channels
    }
}

/// `depthwise::Depthwise::slide` for eight pixels of a 3-wide filter at stride `S`, channels sixteen at a
/// time (the last block masked) up to the last multiple of four (the rest are left to the caller): along
/// each filter row every input pixel is loaded once and multiplied into each output that reads it. Bias
/// (`params[0]`), activation (PReLU's slopes `params[1]`) and the stores are done here.
///
/// # Safety
/// The CPU has AVX-512F (`avx512()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx512f")]
pub unsafe fn depthwise_slide8_avx512<const S: usize>(
    x: &[f32],
    filter: &[f32],
    run: &DepthwiseRun,
    params: [&[f32]; 2],
    activation: Activation,
    out: &mut [f32],
) {
    const N: usize = 8;
    // A constant: the loop over the row's inputs unrolls.
    let span = (N - 1) * S + 3;
    let channels = run.check(N, span, x, filter, params, out);
    let DepthwiseRun { base, c, ky, step_y, c4 } = *run;
    for ch in (0..channels).step_by(16) {
        let mask = lanes((channels - ch).min(16));
        let mut acc = [_mm512_setzero_ps(); N];
        for row in ky.0..ky.1 {
            // SAFETY: the asserts above: every tap of these rows and the first `channels` of each lie inside
            // `x` and `filter`; masked lanes are not read.
            unsafe {
                let w: [__m512; 3] = std::array::from_fn(|kx| {
                    _mm512_maskz_loadu_ps(mask, filter.as_ptr().add((row * 3 + kx) * c4 + ch))
                });
                // The row's input pixels first, then each output's three taps from them: constant indices
                // throughout, so that the loops unroll and the sums stay in registers.
                let at = x.as_ptr().add(base.wrapping_add(row * step_y) + ch);
                let mut v = [_mm512_setzero_ps(); (N - 1) * 2 + 3];
                for (i, v) in v.iter_mut().enumerate().take(span) {
                    *v = _mm512_maskz_loadu_ps(mask, at.add(i * c));
                }
                for (kx, w) in w.iter().enumerate() {
                    for (j, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm512_fmadd_ps(v[j * S + kx], *w, *acc);
                    }
                }
            }
        }
        // SAFETY: the asserts above (bias, slope and each pixel's first `channels` outputs); masked lanes are
        // neither read nor written.
        unsafe {
            let bias = _mm512_maskz_loadu_ps(mask, params[0].as_ptr().add(ch));
            let slope = _mm512_maskz_loadu_ps(mask, params[1].as_ptr().add(ch));
            for (j, sums) in acc.iter().enumerate() {
                let v = activate16(_mm512_add_ps(*sums, bias), activation, slope);
                _mm512_mask_storeu_ps(out.as_mut_ptr().add(j * c + ch), mask, v);
            }
        }
    }
}

/// `depthwise_slide8_avx512` at stride 1 for exactly eight channels (BlazeFace full range's two 96x96 layers),
/// two pixels to a register: a pixel's eight channels and the next pixel's lie side by side in the input
/// and the output, so each multiply-add has all sixteen lanes at work instead of eight. Input vector `i`
/// holds pixels `i` and `i + 1` of the row; output pair `p` (pixels `2p`, `2p + 1`) reads vector `2p + kx`
/// for tap `kx`, with the tap's eight weights in both halves. The same sums in the same order as
/// `depthwise_slide8_avx512`.
///
/// # Safety
/// The CPU has AVX-512F (`avx512()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx512f")]
pub unsafe fn depthwise_slide8_c8_avx512(
    x: &[f32],
    filter: &[f32],
    run: &DepthwiseRun,
    params: [&[f32]; 2],
    activation: Activation,
    out: &mut [f32],
) {
    const N: usize = 8;
    let channels = run.check(N, N + 2, x, filter, params, out);
    let DepthwiseRun { base, c, ky, step_y, c4 } = *run;
    assert!(c == 8 && channels == 8, "eight channels");
    // Eight values in both halves of a register.
    let twice = |p: *const f32| {
        // SAFETY: the callers' reads are within the checks above.
        let v = _mm512_castps256_ps512(unsafe { _mm256_loadu_ps(p) });
        _mm512_shuffle_f32x4::<0b01_00_01_00>(v, v)
    };
    let mut acc = [_mm512_setzero_ps(); N / 2];
    for row in ky.0..ky.1 {
        // SAFETY: the check above: every tap of these rows and the eight channels of each lie inside `x` and
        // `filter` (the last vector, pixels 8 and 9, ends at the span's end).
        unsafe {
            let w: [__m512; 3] = std::array::from_fn(|kx| twice(filter.as_ptr().add((row * 3 + kx) * c4)));
            let at = x.as_ptr().add(base.wrapping_add(row * step_y));
            let v: [__m512; N + 1] = std::array::from_fn(|i| _mm512_loadu_ps(at.add(i * c)));
            for (kx, w) in w.iter().enumerate() {
                for (p, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm512_fmadd_ps(v[2 * p + kx], *w, *acc);
                }
            }
        }
    }
    // SAFETY: the check above (bias, slope and the eight pixels' outputs, 64 values).
    unsafe {
        let (bias, slope) = (twice(params[0].as_ptr()), twice(params[1].as_ptr()));
        for (p, sums) in acc.iter().enumerate() {
            let v = activate16(_mm512_add_ps(*sums, bias), activation, slope);
            _mm512_storeu_ps(out.as_mut_ptr().add(p * 16), v);
        }
    }
}

/// `depthwise::Depthwise::pixel_alone` on AVX-512: one output pixel (at a border, where the padding cuts its
/// taps), sixteen channels at a time (the last block masked) up to the last multiple of four, each tap
/// `(input offset from base, filter offset)`. (Natively with SSE, the two border pixels of each row took a
/// fifth as long as the row's other pixels together.)
///
/// # Safety
/// The CPU has AVX-512F (`avx512()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx512f")]
pub unsafe fn depthwise_pixel_avx512(
    x: &[f32],
    filter: &[f32],
    (base, taps): (usize, &[(usize, usize)]),
    params: [&[f32]; 2],
    activation: Activation,
    out: &mut [f32],
) {
    let channels = out.len() / 4 * 4;
    let filter_reach = taps.iter().map(|t| t.1).max().unwrap_or(0) + channels;
    let x_within = super::taps_within(base, taps, channels, x.len());
    assert!(x_within && filter_reach <= filter.len(), "depthwise taps beyond the input or filter");
    assert!(params.iter().all(|p| p.len() >= channels));
    for ch in (0..channels).step_by(16) {
        let mask = lanes((channels - ch).min(16));
        let mut acc = _mm512_setzero_ps();
        // SAFETY: the asserts above cover every tap's first `channels` values; masked lanes are neither read
        // nor written.
        unsafe {
            for &(xi, wi) in taps {
                let v = _mm512_maskz_loadu_ps(mask, x.as_ptr().add(base.wrapping_add(xi) + ch));
                acc = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, filter.as_ptr().add(wi + ch)), acc);
            }
            let bias = _mm512_maskz_loadu_ps(mask, params[0].as_ptr().add(ch));
            let slope = _mm512_maskz_loadu_ps(mask, params[1].as_ptr().add(ch));
            let v = activate16(_mm512_add_ps(acc, bias), activation, slope);
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(ch), mask, v);
        }
    }
}

/// `depthwise_slide8_avx512` on AVX2 + FMA, eight channels at a time (the last block masked) and four pixels
/// per call (eight would spill: sixteen registers), with the same contract.
///
/// # Safety
/// The CPU has AVX2 and FMA (`avx2_fma()`). Reads and writes are checked against the slices here.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn depthwise_slide4_avx2_fma<const S: usize>(
    x: &[f32],
    filter: &[f32],
    run: &DepthwiseRun,
    params: [&[f32]; 2],
    activation: Activation,
    out: &mut [f32],
) {
    const N: usize = 4;
    // A constant: the loop over the row's inputs unrolls.
    let span = (N - 1) * S + 3;
    let channels = run.check(N, span, x, filter, params, out);
    let DepthwiseRun { base, c, ky, step_y, c4 } = *run;
    for ch in (0..channels).step_by(8) {
        let mask = lanes8((channels - ch).min(8));
        let mut acc = [_mm256_setzero_ps(); N];
        for row in ky.0..ky.1 {
            // SAFETY: as in `depthwise_slide8_avx512`; masked lanes are not read.
            unsafe {
                let w: [__m256; 3] =
                    std::array::from_fn(|kx| _mm256_maskload_ps(filter.as_ptr().add((row * 3 + kx) * c4 + ch), mask));
                let at = x.as_ptr().add(base.wrapping_add(row * step_y) + ch);
                let mut v = [_mm256_setzero_ps(); (N - 1) * 2 + 3];
                for (i, v) in v.iter_mut().enumerate().take(span) {
                    *v = _mm256_maskload_ps(at.add(i * c), mask);
                }
                for (kx, w) in w.iter().enumerate() {
                    for (j, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm256_fmadd_ps(v[j * S + kx], *w, *acc);
                    }
                }
            }
        }
        // SAFETY: as in `depthwise_slide8_avx512`; masked lanes are neither read nor written.
        unsafe {
            let bias = _mm256_maskload_ps(params[0].as_ptr().add(ch), mask);
            let slope = _mm256_maskload_ps(params[1].as_ptr().add(ch), mask);
            for (j, sums) in acc.iter().enumerate() {
                let v = activate8(_mm256_add_ps(*sums, bias), activation, slope);
                _mm256_maskstore_ps(out.as_mut_ptr().add(j * c + ch), mask, v);
            }
        }
    }
}

/// The mask of the first `count` (1..=8) of eight lanes, as AVX2's masked loads and stores take it.
#[inline]
#[target_feature(enable = "avx2")]
fn lanes8(count: usize) -> __m256i {
    let first = _mm256_set1_epi32(count as i32);
    _mm256_cmpgt_epi32(first, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// `simd::activate4` on eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn activate8(v: __m256, activation: Activation, slope: __m256) -> __m256 {
    let zero = _mm256_setzero_ps();
    match activation {
        Activation::None => v,
        Activation::Relu => _mm256_max_ps(v, zero),
        Activation::Relu6 => _mm256_min_ps(_mm256_max_ps(v, zero), _mm256_set1_ps(6.0)),
        Activation::ReluN1To1 => _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-1.0)), _mm256_set1_ps(1.0)),
        Activation::Prelu => _mm256_add_ps(_mm256_max_ps(v, zero), _mm256_mul_ps(slope, _mm256_min_ps(v, zero))),
    }
}
