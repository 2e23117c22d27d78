//! Fast CPU kernels over four-lane vectors (`lanes::F4`): the same source becomes WebAssembly `simd128` code
//! and x86_64 SSE code. Weights are laid out once at load (`ConvGemm::new`, `Depthwise::new`, `Dense::new`,
//! kept per step by `cpu::CpuModel`); every kernel here is tested against the scalar reference
//! (`tests/kernels.rs`).

pub mod depthwise;
pub mod elementwise;
pub mod gemm;
pub mod lanes;
#[cfg(target_arch = "x86_64")]
pub mod x86;

use crate::model::shape::window;
use crate::model::{Activation, Conv};
pub use depthwise::Depthwise;
pub use gemm::Skip;
use gemm::{gemm, PackedB};
use lanes::F4;

/// What the kernels run on, for benchmarks and the browser's report: the build's vectors, or natively on
/// x86-64 the AVX2 + FMA kernels where the CPU has them.
pub fn arch() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    return x86::name();
    #[cfg(not(target_arch = "x86_64"))]
    return lanes::NAME;
}

/// The filter taps [first, end) whose input position falls inside a dimension of `size`, for each output
/// position along it.
pub(crate) fn tap_ranges(
    out: usize,
    size: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
) -> Vec<(usize, usize)> {
    (0..out)
        .map(|o| {
            let inside = |t: usize| (o * stride + t * dilation).checked_sub(pad).is_some_and(|i| i < size);
            let first = (0..k).find(|&t| inside(t)).unwrap_or(k);
            let end = (first..k).find(|&t| !inside(t)).unwrap_or(k);
            (first, end.max(first))
        })
        .collect()
}

/// Whether every read of a depthwise pixel group lies in an input of `len` values: each tap's input offset
/// (`taps[i].0`) from `base`, plus `width` more (`reads_within`). A pixel with no tap inside reads nothing.
pub(crate) fn taps_within(base: usize, taps: &[(usize, usize)], width: usize, len: usize) -> bool {
    let (Some(first), Some(last)) = (taps.iter().map(|t| t.0).min(), taps.iter().map(|t| t.0).max()) else {
        return true;
    };
    reads_within(base, first, last + width, len)
}

/// Whether the reads of a sliding depthwise run lie in an input of `len` values: filter rows `ky`, `step_y`
/// apart, each `row_len` values from `base` plus its row's offset (`reads_within`). No rows, no reads.
pub(crate) fn rows_within(base: usize, ky: (usize, usize), step_y: usize, row_len: usize, len: usize) -> bool {
    ky.0 >= ky.1 || reads_within(base, ky.0 * step_y, (ky.1 - 1) * step_y + row_len, len)
}

/// Whether reads from `base + first` up to `base + end` lie in an input of `len` values. `base` is the input
/// offset of a depthwise pixel's tap (0, 0), which may lie in the padding before the input: a negative
/// offset, wrapped, so the kernels start their reads at `base.wrapping_add(offset)` of taps inside.
fn reads_within(base: usize, first: usize, end: usize, len: usize) -> bool {
    let base = base as isize as i128;
    base + first as i128 >= 0 && base + end as i128 <= len as i128
}

/// A copy of `v` zero-padded to `len` (a one-value slope is repeated instead).
pub(crate) fn padded(v: &[f32], len: usize) -> Vec<f32> {
    let mut out = if v.len() == 1 { vec![v[0]; len] } else { v.to_vec() };
    out.resize(len, 0.0);
    out
}

/// An activation on four lanes, decided once per call by kernels that would otherwise branch on it for each
/// vector: the clamps as their bounds (ReLU's upper one infinite), PReLU as max(v, 0) + slope * min(v, 0),
/// exact for both signs.
#[derive(Clone, Copy)]
pub(crate) enum Act4 {
    Identity,
    Clamp(F4, F4),
    Prelu,
}

impl Act4 {
    #[inline(always)]
    pub(crate) fn of(activation: Activation) -> Act4 {
        let clamp = |lo: f32, hi: f32| Act4::Clamp(F4::splat(lo), F4::splat(hi));
        match activation {
            Activation::None => Act4::Identity,
            Activation::Relu => clamp(0.0, f32::INFINITY),
            Activation::Relu6 => clamp(0.0, 6.0),
            Activation::ReluN1To1 => clamp(-1.0, 1.0),
            Activation::Prelu => Act4::Prelu,
        }
    }

    /// `slope`: PReLU's slopes for these lanes.
    #[inline(always)]
    pub(crate) fn apply(self, v: F4, slope: F4) -> F4 {
        match self {
            Act4::Identity => v,
            Act4::Clamp(lo, hi) => v.max(lo).min(hi),
            Act4::Prelu => v.max(F4::splat(0.0)) + slope * v.min(F4::splat(0.0)),
        }
    }
}

/// The activation on four lanes; `slope` holds PReLU's slopes for these lanes.
#[inline(always)]
pub(crate) fn activate4(v: F4, activation: Activation, slope: F4) -> F4 {
    Act4::of(activation).apply(v, slope)
}

/// A convolution with its weights laid out for `gemm`: 1x1 stride-1 convolutions read the input as it is,
/// others gather each output pixel's taps into a row first (im2col).
#[derive(Debug, Clone)]
pub struct ConvGemm {
    packed: PackedB,
    kh: usize,
    kw: usize,
    ci: usize,
    conv: Conv,
}

impl ConvGemm {
    /// `filter` as TFLite stores it: [co, kh, kw, ci].
    pub fn new(filter: &[f32], fs: [usize; 4], bias: &[f32], slope: &[f32], conv: Conv) -> ConvGemm {
        let [co, kh, kw, ci] = fs;
        let packed = PackedB::new(filter, co, kh * kw * ci, bias, slope, conv.activation);
        ConvGemm { packed, kh, kw, ci, conv }
    }

    /// x: [n, h, w, ci] -> out: [n, oh, ow, co], plus `skip` ([n, oh, ow, c <= co]) before the activation
    /// when given; every element of `out` is written.
    pub fn run(&self, x: &[f32], xs: [usize; 4], skip: Option<Skip>, out: &mut [f32]) {
        let [n, h, w, ci] = xs;
        let conv = &self.conv;
        let (oh, pad_top) = window(h, self.kh, conv.stride[0], conv.dilation[0], conv.padding).expect("shape checked");
        let (ow, pad_left) = window(w, self.kw, conv.stride[1], conv.dilation[1], conv.padding).expect("shape checked");
        let rows = n * oh * ow;
        let out = &mut out[..rows * self.packed.n];
        let direct = self.kh == 1 && self.kw == 1 && conv.stride == [1, 1] && pad_top == 0 && pad_left == 0;
        if direct {
            gemm(x, rows, &self.packed, skip, out);
            return;
        }
        // Gather the taps of a block of output pixels into rows (im2col), then multiply: the block stays in
        // the cache instead of a whole im2col matrix going through memory.
        let (k, co) = (self.packed.k, self.packed.n);
        // Which output rows and columns have every tap inside the input: their pixels' rows need no zeros.
        let whole = |out: usize, size: usize, taps: usize, axis: usize, pad: usize| -> Vec<bool> {
            let ranges = tap_ranges(out, size, taps, conv.stride[axis], conv.dilation[axis], pad);
            ranges.into_iter().map(|r| r == (0, taps)).collect()
        };
        let (whole_rows, whole_cols) = (whole(oh, h, self.kh, 0, pad_top), whole(ow, w, self.kw, 1, pad_left));
        let mut cols = vec![0.0; IM2COL_BLOCK * k];
        // The next pixel's image, row and column, counted rather than divided out of its index (three
        // divisions per pixel were a sixth of im2col's time).
        let (mut b, mut oy, mut ox) = (0, 0, 0);
        for first in (0..rows).step_by(IM2COL_BLOCK) {
            let count = IM2COL_BLOCK.min(rows - first);
            for row in cols.chunks_exact_mut(k).take(count) {
                let whole = whole_rows[oy] && whole_cols[ox];
                if whole && conv.dilation == [1, 1] {
                    // Every tap inside the input: each filter row's taps are one run of it.
                    let iy = oy * conv.stride[0] - pad_top;
                    let start = ((b * h + iy) * w + ox * conv.stride[1] - pad_left) * ci;
                    gather_runs(x, start, w * ci, self.kw * ci, row);
                } else {
                    if !whole {
                        row.fill(0.0);
                    }
                    self.gather(x, [b, h, w, ci], (oy, ox), (pad_top, pad_left), row);
                }
                ox += 1;
                if ox == ow {
                    (ox, oy) = (0, oy + 1);
                    if oy == oh {
                        (oy, b) = (0, b + 1);
                    }
                }
            }
            let skip = skip.map(|s| Skip { data: &s.data[first * s.channels..], channels: s.channels });
            gemm(&cols, count, &self.packed, skip, &mut out[first * co..(first + count) * co]);
        }
    }

    /// One output pixel's taps, in the filter's (ky, kx, ci) order; taps in the padding are left as they are
    /// (the caller clears the row of a pixel that has such taps).
    fn gather(
        &self,
        x: &[f32],
        xs: [usize; 4],
        (oy, ox): (usize, usize),
        (pad_top, pad_left): (usize, usize),
        row: &mut [f32],
    ) {
        let [b, h, w, ci] = xs;
        let conv = &self.conv;
        for ky in 0..self.kh {
            let Some(iy) = (oy * conv.stride[0] + ky * conv.dilation[0]).checked_sub(pad_top).filter(|&i| i < h) else {
                continue;
            };
            if conv.dilation[1] == 1 {
                // The taps of a filter row that fall inside the input are one contiguous run.
                let start = (ox * conv.stride[1]) as isize - pad_left as isize;
                let kx0 = (-start).clamp(0, self.kw as isize) as usize;
                let kx1 = (w as isize - start).clamp(kx0 as isize, self.kw as isize) as usize;
                if kx1 > kx0 {
                    let ix0 = (start + kx0 as isize) as usize;
                    let src = &x[((b * h + iy) * w + ix0) * ci..][..(kx1 - kx0) * ci];
                    row[(ky * self.kw + kx0) * ci..][..src.len()].copy_from_slice(src);
                }
                continue;
            }
            for kx in 0..self.kw {
                let Some(ix) = (ox * conv.stride[1] + kx * conv.dilation[1]).checked_sub(pad_left).filter(|&i| i < w)
                else {
                    continue;
                };
                let src = &x[((b * h + iy) * w + ix) * ci..][..ci];
                row[(ky * self.kw + kx) * self.ci..][..ci].copy_from_slice(src);
            }
        }
    }
}

/// One output pixel's taps when all lie inside the input: `dst.len() / run` runs of `run` values, `step`
/// apart in `x` from `start`, one after the other. The runs of the usual first layers (3x3 and 5x5 filters
/// over three channels) have their length fixed at compile time: copies of a few values inline, where a
/// length known only at run time calls `memcpy` for each. (BlazeFace full range's first layer natively,
/// AVX-512: im2col 0.19 ms before, against 0.12 ms for the product after it; now 0.07 ms.)
fn gather_runs(x: &[f32], start: usize, step: usize, run: usize, dst: &mut [f32]) {
    #[inline(always)]
    fn fixed<const RUN: usize>(x: &[f32], start: usize, step: usize, dst: &mut [f32]) {
        for (i, d) in dst.chunks_exact_mut(RUN).enumerate() {
            let src: &[f32; RUN] = x[start + i * step..][..RUN].try_into().expect("RUN values");
            d.copy_from_slice(src);
        }
    }
    match run {
        9 => fixed::<9>(x, start, step, dst),
        15 => fixed::<15>(x, start, step, dst),
        _ => {
            for (i, d) in dst.chunks_exact_mut(run).enumerate() {
                d.copy_from_slice(&x[start + i * step..][..run]);
            }
        }
    }
}

/// Output pixels gathered per block by `ConvGemm`: a multiple of every micro-kernel's rows (4, 6 and 8; at 32,
/// the AVX2 kernel's six left two rows of each block to the one-row SSE kernel).
const IM2COL_BLOCK: usize = 48;

/// Fully connected: x as rows of the filter's width -> [rows, out].
#[derive(Debug, Clone)]
pub struct Dense {
    packed: PackedB,
}

impl Dense {
    /// `filter` as TFLite stores it: [out, in].
    pub fn new(filter: &[f32], out: usize, width: usize, bias: &[f32], slope: &[f32], activation: Activation) -> Dense {
        Dense { packed: PackedB::new(filter, out, width, bias, slope, activation) }
    }

    /// Every element of `out` ([rows, out]) is written.
    pub fn run(&self, x: &[f32], out: &mut [f32]) {
        let rows = x.len() / self.packed.k;
        gemm(x, rows, &self.packed, None, &mut out[..rows * self.packed.n]);
    }
}
