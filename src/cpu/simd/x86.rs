//! x86-64 kernels for CPUs with AVX2 and FMA, chosen at run time (`avx2_fma`): the build itself targets
//! plain x86-64 (SSE2), whose kernels stay as they are for CPUs without them. Each kernel here computes what
//! its SSE counterpart does, eight lanes at a time with fused multiply-add (so within rounding of the scalar
//! reference, not bit for bit), and is tested against the reference like the others (`tests/kernels.rs`,
//! run once more with `LOCALFACE_KERNELS=sse` for the SSE path).

use core::arch::x86_64::*;
use std::sync::OnceLock;

/// Whether this CPU has AVX2 and FMA, and `LOCALFACE_KERNELS=sse` does not ask for the SSE kernels. Read
/// once.
pub fn avx2_fma() -> bool {
    static CHOICE: OnceLock<bool> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let sse_asked = std::env::var("LOCALFACE_KERNELS").is_ok_and(|k| k == "sse");
        !sse_asked && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    })
}

/// The kernels' name, as `simd::arch` reports it.
pub fn name() -> &'static str {
    if avx2_fma() {
        "x86_64 avx2 + fma"
    } else {
        super::lanes::NAME
    }
}

/// Rows of A per `gemm_6x16_avx2_fma` call.
pub const ROWS: usize = 6;

/// Six rows of A (each `k` long, one after the other in `a`) times two packed panels of B ([k][8] each), as
/// six rows of sixteen sums: twelve accumulators, two weight vectors and a broadcast fill the sixteen
/// registers, and each step of k loads 8 values for 12 fused multiply-adds.
///
/// # Safety
/// The CPU has AVX2 and FMA (`avx2_fma()`).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gemm_6x16_avx2_fma(a: &[f32], k: usize, panels: [&[f32]; 2]) -> [[f32; 16]; ROWS] {
    let a = &a[..ROWS * k];
    let (p0, p1) = (&panels[0][..k * 8], &panels[1][..k * 8]);
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
    let mut out = [[0.0f32; 16]; ROWS];
    for (row, v) in out.iter_mut().zip(acc) {
        // SAFETY: a row holds sixteen f32.
        unsafe {
            _mm256_storeu_ps(row.as_mut_ptr(), v[0]);
            _mm256_storeu_ps(row.as_mut_ptr().add(8), v[1]);
        }
    }
    out
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
            let at = x.as_ptr().add(base + xi + ch);
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
