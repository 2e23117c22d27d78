//! Depthwise convolution (depth multiplier 1), channels four at a time.
//!
//! Along each output row, the pixels whose taps inside the input are the same rectangle of the filter (all
//! of them, away from the borders) form a run. A run goes eight (then four) pixels at a time per block of
//! four channels: eight running sums in flight hide the latency of each multiply-add, and each weight is
//! loaded once for the eight. What is left (borders, the last few) goes a pixel at a time, sixteen channels
//! at a time. Per channel: a running sum over the taps in filter order from zero, then the bias, as the
//! reference adds.

use super::lanes::F4;
use super::{activate4, padded, rows_within, tap_ranges, taps_within, Act4};
use crate::cpu::reference::activate;
use crate::model::shape::window;
use crate::model::Conv;

/// Filters with more taps than this (a 7x7 has 49) go through `pixel_generic`.
const MAX_TAPS: usize = 64;

/// Where one output row reads: its image, its tap-0 input row, the filter rows inside the input, each
/// column's filter columns inside the input, the input offsets of a filter step, the left padding.
struct RowTaps<'a> {
    b: usize,
    iy0: isize,
    ky: (usize, usize),
    cols: &'a [(usize, usize)],
    steps: (usize, usize),
    pad_left: usize,
}

/// The filter rows a run of pixels reads: those inside the input, `step_y` floats apart there, and whether
/// each of them lies wholly inside the input along the row.
#[derive(Clone, Copy)]
struct RowSpan {
    ky: (usize, usize),
    step_y: usize,
    whole_row: bool,
}

/// Depthwise weights with bias and slope padded to whole blocks of four.
#[derive(Debug, Clone)]
pub struct Depthwise {
    kh: usize,
    kw: usize,
    filter: Vec<f32>,
    bias: Vec<f32>,
    slope: Vec<f32>,
    conv: Conv,
}

impl Depthwise {
    /// `filter` as TFLite stores it: [1, kh, kw, c].
    pub fn new(filter: &[f32], kh: usize, kw: usize, c: usize, bias: &[f32], slope: &[f32], conv: Conv) -> Depthwise {
        let c4 = c.div_ceil(4) * 4;
        let filter = filter.chunks_exact(c).flat_map(|tap| padded(tap, c4)).collect();
        Depthwise { kh, kw, filter, bias: padded(bias, c4), slope: padded(slope, c4), conv }
    }

    /// One output pixel's channels in blocks of four, for filters too large for the tap list.
    fn pixel_generic(
        &self,
        x: &[f32],
        base: isize,
        ky: (usize, usize),
        kx: (usize, usize),
        step: (usize, usize),
        out_px: &mut [f32],
    ) {
        let c4 = self.bias.len();
        let c = out_px.len();
        for ch in (0..c / 4 * 4).step_by(4) {
            let mut acc = F4::splat(0.0);
            for y in ky.0..ky.1 {
                for xx in kx.0..kx.1 {
                    let xi = (base + (y * step.0 + xx * step.1 + ch) as isize) as usize;
                    acc = acc.mul_add(F4::load(&x[xi..]), F4::load(&self.filter[(y * self.kw + xx) * c4 + ch..]));
                }
            }
            let v = acc + F4::load(&self.bias[ch..]);
            activate4(v, self.conv.activation, F4::load(&self.slope[ch..])).store(&mut out_px[ch..]);
        }
    }

    /// `N` pixels with the same taps, the first at input offset `base` and each `pixel_step` floats after
    /// the last, into `out` (their `N * c` outputs); channels in blocks of four (the rest are left to the
    /// caller).
    fn pixels<const N: usize>(
        &self,
        x: &[f32],
        base: usize,
        pixel_step: usize,
        taps: &[(usize, usize)],
        c: usize,
        out: &mut [f32],
    ) {
        let act = Act4::of(self.conv.activation);
        // One check for every read and write below (offset + channel block + pixel), instead of one each.
        self.check_ends(x, (base, taps), (N, pixel_step), c, out);
        // Where the CPU has AVX2 and FMA, eight pixels go eight channels at a time; the rest as below.
        #[cfg(target_arch = "x86_64")]
        let first = if N == 8 && super::x86::avx2_fma() {
            // SAFETY: AVX2 and FMA are there, and the check above covers every read of the whole blocks of eight.
            unsafe { self.pixels8_avx2_fma(x, base, pixel_step, taps, c, out) }
        } else {
            0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let first = 0;
        for ch in (first..c / 4 * 4).step_by(4) {
            let mut acc = [F4::splat(0.0); N];
            for &(xi, wi) in taps {
                // SAFETY: wi + ch + 4 <= the filter's length (`check_ends`).
                let weight = unsafe { F4::load_unchecked(&self.filter, wi + ch) };
                let at = base.wrapping_add(xi) + ch;
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: xi is a tap's offset, ch + 4 <= c / 4 * 4 and j < N: within the check above.
                    *a = a.mul_add(unsafe { F4::load_unchecked(x, at + j * pixel_step) }, weight);
                }
            }
            // SAFETY: ch + 4 <= c / 4 * 4, and `check_ends` checked the outputs of N pixels.
            unsafe { self.finish(&acc, act, ch, c, out) };
        }
    }

    /// The checks that let `pixels` and `pixel_alone` read the input and the filter unchecked: `pixels`
    /// pixels `pixel_step` apart, the first at `base`, read each tap's input offset plus the channels in whole
    /// blocks of four within `x`, and each tap's filter offset plus those channels lies within the filter;
    /// and those of `check_outputs`.
    fn check_ends(
        &self,
        x: &[f32],
        (base, taps): (usize, &[(usize, usize)]),
        (pixels, pixel_step): (usize, usize),
        c: usize,
        out: &[f32],
    ) {
        let width = (pixels - 1) * pixel_step + c / 4 * 4;
        assert!(taps_within(base, taps, width, x.len()), "depthwise taps beyond the input");
        let filter_reach = taps.iter().map(|t| t.1).max().unwrap_or(0) + c / 4 * 4;
        assert!(filter_reach <= self.filter.len(), "depthwise taps beyond the filter");
        self.check_outputs(pixels, c, out);
    }

    /// The checks that let `finish` read the bias and slope and write `out` unchecked: the channels in whole
    /// blocks of four lie within the bias (and slope), and `pixels` pixels of `c` channels within `out`.
    fn check_outputs(&self, pixels: usize, c: usize, out: &[f32]) {
        let whole = c / 4 * 4;
        assert!(whole <= self.bias.len(), "depthwise channels beyond the bias");
        assert!(out.len() >= (pixels - 1) * c + whole, "depthwise outputs beyond the slice");
    }

    /// Adds the bias to `N` pixels' sums for channels `ch..ch + 4`, applies the activation and stores them.
    /// The activation is decided once per call (`Act4`) and the stores go unchecked: in V8's code a range
    /// check and a three-way match on the activation for each stored vector made BlazeFace 4% slower.
    ///
    /// # Safety
    /// `ch + 4 <= self.bias.len()` (the slope is as long), and `(N - 1) * c + ch + 4 <= out.len()`.
    #[inline(always)]
    unsafe fn finish<const N: usize>(&self, acc: &[F4; N], act: Act4, ch: usize, c: usize, out: &mut [f32]) {
        // SAFETY: the caller's promise.
        unsafe {
            let (bias, slope) = (F4::load_unchecked(&self.bias, ch), F4::load_unchecked(&self.slope, ch));
            for (j, a) in acc.iter().enumerate() {
                act.apply(*a + bias, slope).store_unchecked(out, j * c + ch);
            }
        }
    }

    /// A run of pixels with the same `taps` (into `out`, `c` values each; the first at input offset `base`, each
    /// `pixel_step` after the one before), eight at a time; its last part, if shorter, as the run's last eight, or
    /// with `tail_of_four` its last four where at most four are left.
    fn groups(
        &self,
        x: &[f32],
        (base, pixel_step): (usize, usize),
        taps: &[(usize, usize)],
        span: RowSpan,
        (tail_of_four, c): (bool, usize),
        out: &mut [f32],
    ) {
        let run = out.len() / c;
        let mut start = 0;
        while start < run {
            let eight = run >= 8 && (run - start > 4 || !tail_of_four);
            let group = if eight { 8 } else { 4 };
            let first = start.min(run - group);
            let out_group = &mut out[first * c..][..group * c];
            let at = base.wrapping_add(first * pixel_step);
            if eight {
                self.eight(x, at, taps, span, out_group);
            } else {
                self.four(x, at, taps, span, out_group);
            }
            start = first + group;
        }
    }

    /// Whether pixels of a run with filter rows `rows` can go through `slide` (and `slide8`): a 3-wide filter at
    /// stride 1 or 2 whose filter rows lie wholly inside the input.
    fn slides(&self, rows: RowSpan) -> bool {
        self.kw == 3 && rows.whole_row && self.conv.dilation[1] == 1 && self.conv.stride[1] <= 2
    }

    /// Eight pixels of a run with the same `taps`, the first at input offset `base`, into `out`: through
    /// `slide8` where the run `slides`, else through `pixels`.
    fn eight(&self, x: &[f32], base: usize, taps: &[(usize, usize)], rows: RowSpan, out: &mut [f32]) {
        let c = out.len() / 8;
        if self.slides(rows) {
            self.slide8(x, base, c, rows.ky, rows.step_y, out);
        } else {
            self.pixels::<8>(x, base, self.conv.stride[1] * c, taps, c, out);
        }
    }

    /// Four pixels of a run, as `eight` does eight: through `slide` where the run `slides`, else `pixels`.
    fn four(&self, x: &[f32], base: usize, taps: &[(usize, usize)], rows: RowSpan, out: &mut [f32]) {
        let c = out.len() / 4;
        match (self.slides(rows), self.conv.stride[1]) {
            (true, 1) => self.slide::<4, 3, 1>(x, base, c, rows.ky, rows.step_y, out),
            (true, _) => self.slide::<4, 3, 2>(x, base, c, rows.ky, rows.step_y, out),
            (false, _) => self.pixels::<4>(x, base, self.conv.stride[1] * c, taps, c, out),
        }
    }

    /// Eight pixels of a run of a 3-wide filter at stride 1 or 2 whose filter columns all lie inside the input:
    /// on x86-64 with AVX2 + FMA or AVX-512 through their kernels (`slide8_x86`), elsewhere through `slide`
    /// four pixels at a time, except natively at stride 1, eight. (Eight at stride 2, seventeen inputs per
    /// filter row, ran at half the speed of twice four with SSE. In WebAssembly eight spill at either stride:
    /// V8 has fifteen vector registers to give out.)
    fn slide8(&self, x: &[f32], base: usize, c: usize, ky: (usize, usize), step_y: usize, out: &mut [f32]) {
        let stride = self.conv.stride[1];
        #[cfg(target_arch = "x86_64")]
        if super::x86::avx2_fma() {
            self.slide8_x86(x, base, c, (ky, step_y), out);
            return;
        }
        #[cfg(not(target_arch = "wasm32"))]
        if stride == 1 {
            self.slide::<8, 3, 1>(x, base, c, ky, step_y, out);
            return;
        }
        let (first, second) = out.split_at_mut(4 * c);
        let next = base.wrapping_add(4 * stride * c);
        if stride == 1 {
            self.slide::<4, 3, 1>(x, base, c, ky, step_y, first);
            self.slide::<4, 3, 1>(x, next, c, ky, step_y, second);
        } else {
            self.slide::<4, 3, 2>(x, base, c, ky, step_y, first);
            self.slide::<4, 3, 2>(x, next, c, ky, step_y, second);
        }
    }

    /// `slide8` through the x86-64 kernels: AVX-512 (eight pixels, sixteen channels at a time) or AVX2 + FMA
    /// (twice four pixels, eight channels at a time).
    #[cfg(target_arch = "x86_64")]
    fn slide8_x86(&self, x: &[f32], base: usize, c: usize, (ky, step_y): ((usize, usize), usize), out: &mut [f32]) {
        use super::x86::DepthwiseRun;
        use super::x86::{avx512, depthwise_slide4_avx2_fma, depthwise_slide8_avx512, depthwise_slide8_c8_avx512};
        let stride = self.conv.stride[1];
        let run = DepthwiseRun { base, c, ky, step_y, c4: self.bias.len() };
        let (params, act) = ([&self.bias[..], &self.slope[..]], self.conv.activation);
        // SAFETY: the caller checked that the CPU has AVX2 and FMA, and `avx512()` that it has AVX-512F; the
        // kernels check their reads and writes against the slices.
        unsafe {
            match (avx512(), stride) {
                (true, 1) if c == 8 => depthwise_slide8_c8_avx512(x, &self.filter, &run, params, act, out),
                (true, 1) => depthwise_slide8_avx512::<1>(x, &self.filter, &run, params, act, out),
                (true, _) => depthwise_slide8_avx512::<2>(x, &self.filter, &run, params, act, out),
                (false, _) => {
                    let (first, second) = out.split_at_mut(4 * c);
                    let next = DepthwiseRun { base: base.wrapping_add(4 * stride * c), ..run };
                    if stride == 1 {
                        depthwise_slide4_avx2_fma::<1>(x, &self.filter, &run, params, act, first);
                        depthwise_slide4_avx2_fma::<1>(x, &self.filter, &next, params, act, second);
                    } else {
                        depthwise_slide4_avx2_fma::<2>(x, &self.filter, &run, params, act, first);
                        depthwise_slide4_avx2_fma::<2>(x, &self.filter, &next, params, act, second);
                    }
                }
            }
        }
    }

    /// `N` pixels of a run whose filter columns all lie inside the input, for a filter `KW` wide at stride
    /// `S` (dilation 1 along the row), channels in blocks of four (the rest are left to the caller). Along
    /// each filter row in `ky` (the rows inside the input, `step_y` floats apart there), every input pixel is
    /// loaded once and multiplied into each output that reads it (`KW` of them at stride 1), where `pixels`
    /// loads it once per tap: about a third of the loads and address arithmetic. Per output the taps still
    /// come in filter order, as the reference adds them.
    fn slide<const N: usize, const KW: usize, const S: usize>(
        &self,
        x: &[f32],
        base: usize,
        c: usize,
        ky: (usize, usize),
        step_y: usize,
        out: &mut [f32],
    ) {
        let (act, c4) = (Act4::of(self.conv.activation), self.bias.len());
        // Input pixels along a filter row that the N outputs read.
        let span = (N - 1) * S + KW;
        self.check_outputs(N, c, out);
        // One check for every read below, instead of one per read.
        let row_len = (span - 1) * c + c / 4 * 4;
        assert!(rows_within(base, ky, step_y, row_len, x.len()), "depthwise taps beyond the input");
        assert!(ky.1 * KW * c4 <= self.filter.len() && self.kw == KW, "depthwise filter rows beyond the filter");
        for ch in (0..c / 4 * 4).step_by(4) {
            let mut acc = [F4::splat(0.0); N];
            for row in ky.0..ky.1 {
                // SAFETY: row < ky.1 and ch + 4 <= c4: within the filter, as checked above.
                let w: [F4; KW] =
                    std::array::from_fn(|kx| unsafe { F4::load_unchecked(&self.filter, (row * KW + kx) * c4 + ch) });
                let mut at = base.wrapping_add(row * step_y) + ch;
                for i in 0..span {
                    // SAFETY: row < ky.1, i < span and ch + 4 <= c / 4 * 4: within the check above.
                    let v = unsafe { F4::load_unchecked(x, at) };
                    at += c;
                    // Output j reads this pixel with tap kx where i = j * S + kx (unrolled: all constants).
                    for (kx, w) in w.iter().enumerate() {
                        if i >= kx && (i - kx) % S == 0 && (i - kx) / S < N {
                            let j = (i - kx) / S;
                            acc[j] = acc[j].mul_add(v, *w);
                        }
                    }
                }
            }
            // SAFETY: ch + 4 <= c / 4 * 4, and `check_outputs` checked the bias and the outputs of N pixels.
            unsafe { self.finish(&acc, act, ch, c, out) };
        }
    }

    /// `pixels::<8>` for the channels in whole blocks of eight, through the AVX2 + FMA kernel; returns how
    /// many channels it did.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA, and for every tap `base + offset + 7 * pixel_step + c / 8 * 8 <= x.len()`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn pixels8_avx2_fma(
        &self,
        x: &[f32],
        base: usize,
        pixel_step: usize,
        taps: &[(usize, usize)],
        c: usize,
        out: &mut [f32],
    ) -> usize {
        let act = self.conv.activation;
        let whole = c / 8 * 8;
        for ch in (0..whole).step_by(8) {
            // SAFETY: the caller's promises cover the reads of `x` (ch + 8 <= c / 8 * 8), and the filter holds
            // c4 >= ch + 8 values per tap.
            let sums = unsafe { super::x86::depthwise_8x8_avx2_fma(x, &self.filter, base, pixel_step, taps, ch) };
            for (j, sums) in sums.iter().enumerate() {
                for half in 0..2 {
                    let at = ch + 4 * half;
                    let v = F4::load(&sums[4 * half..]) + F4::load(&self.bias[at..]);
                    activate4(v, act, F4::load(&self.slope[at..])).store(&mut out[j * c + at..]);
                }
            }
        }
        whole
    }

    /// x: [n, h, w, c] -> out: [n, oh, ow, c]; every element of `out` is written.
    pub fn run(&self, x: &[f32], xs: [usize; 4], out: &mut [f32]) {
        let [n, h, w, c] = xs;
        let conv = &self.conv;
        let (oh, pad_top) = window(h, self.kh, conv.stride[0], conv.dilation[0], conv.padding).expect("shape checked");
        let (ow, pad_left) = window(w, self.kw, conv.stride[1], conv.dilation[1], conv.padding).expect("shape checked");
        let rows = tap_ranges(oh, h, self.kh, conv.stride[0], conv.dilation[0], pad_top);
        let cols = tap_ranges(ow, w, self.kw, conv.stride[1], conv.dilation[1], pad_left);
        let c4 = c.div_ceil(4) * 4;
        let out = &mut out[..n * oh * ow * c];
        // Input offset of filter tap (ky, kx) from the tap (0, 0), in floats.
        let step_y = conv.dilation[0] * w * c;
        let step_x = conv.dilation[1] * c;
        // From each output column, how many columns in a row have its tap range: the same in every row, so
        // counted once here (counted per row, it was a fifth of this function's own time natively).
        let mut run_from = vec![1; ow];
        for ox in (0..ow.saturating_sub(1)).rev() {
            if cols[ox] == cols[ox + 1] {
                run_from[ox] = run_from[ox + 1] + 1;
            }
        }
        // A run's last few pixels as four rather than eight, except with AVX-512, whose kernel takes eight
        // pixels for little more than four cost (natively there, BlazeFace short range 9% slower with fours;
        // MobileFaceNet 1.5% faster with them in WebAssembly, full range 0.6%).
        #[cfg(target_arch = "x86_64")]
        let tail_of_four = !super::x86::avx512();
        #[cfg(not(target_arch = "x86_64"))]
        let tail_of_four = true;
        // The taps inside the input, as (offset from the pixel's tap (0, 0), filter offset): the same for
        // every pixel with the same tap ranges, so rebuilt only when the ranges change.
        let mut taps = [(0usize, 0usize); MAX_TAPS];
        for b in 0..n {
            for oy in 0..oh {
                let (ky0, ky1) = rows[oy];
                // Input row of tap 0 (it may lie in the padding, but only valid taps are read).
                let iy0 = (oy * conv.stride[0]) as isize - pad_top as isize;
                let out_row = &mut out[(b * oh + oy) * ow * c..][..ow * c];
                let pixel_base = |ox: usize| {
                    let ix0 = (ox * conv.stride[1]) as isize - pad_left as isize;
                    ((b * h) as isize + iy0) * (w * c) as isize + ix0 * c as isize
                };
                let mut count = 0;
                let mut ranges = None;
                let pixel_step = conv.stride[1] * c;
                let mut ox = 0;
                while ox < ow {
                    let (kx0, kx1) = cols[ox];
                    let base = pixel_base(ox);
                    if (ky1 - ky0) * (kx1 - kx0) > MAX_TAPS {
                        let out_px = &mut out_row[ox * c..][..c];
                        self.pixel_generic(x, base, (ky0, ky1), (kx0, kx1), (step_y, step_x), out_px);
                        ox += 1;
                        continue;
                    }
                    if ranges != Some((kx0, kx1)) {
                        ranges = Some((kx0, kx1));
                        count = 0;
                        for ky in ky0..ky1 {
                            for kx in kx0..kx1 {
                                taps[count] = (ky * step_y + kx * step_x, (ky * self.kw + kx) * c4);
                                count += 1;
                            }
                        }
                    }
                    // Valid taps lie inside the input, so base + offset is never negative (base itself may be,
                    // wrapped: `simd::reads_within`).
                    let base = base as usize;
                    let taps = &taps[..count];
                    // A run goes eight at a time, its last part (if shorter) as the run's last eight, or where
                    // `tail_of_four` as its last four when at most four are left: a few outputs computed twice,
                    // the same values, instead of slower kernels. (With the last eight alone, a 12-pixel row
                    // computed 16 outputs for its 10 inner pixels.)
                    let run = run_from[ox];
                    if run >= 8 || (run >= 4 && tail_of_four) {
                        let span = RowSpan { ky: (ky0, ky1), step_y, whole_row: (kx0, kx1) == (0, self.kw) };
                        let out_run = &mut out_row[ox * c..][..run * c];
                        self.groups(x, (base, pixel_step), taps, span, (tail_of_four, c), out_run);
                        ox += run;
                    } else if run >= 4 {
                        // Four pixels of a run together; a pixel alone only where fewer are left.
                        self.pixels::<4>(x, base, pixel_step, taps, c, &mut out_row[ox * c..][..4 * c]);
                        ox += 4;
                    } else {
                        self.pixel_alone(x, base, taps, &mut out_row[ox * c..][..c]);
                        ox += 1;
                    }
                }
                let row = RowTaps { b, iy0, ky: (ky0, ky1), cols: &cols, steps: (step_y, step_x), pad_left };
                self.leftover_channels(x, [h, w, c], &row, out_row);
            }
        }
    }

    /// One output pixel on its own, sixteen channels at a time in four registers, then eight, then four
    /// (the last channels past a multiple of four are left to `leftover_channels`); with AVX-512 through its
    /// kernel.
    #[inline]
    fn pixel_alone(&self, x: &[f32], base: usize, taps: &[(usize, usize)], out_px: &mut [f32]) {
        let (c, activation) = (out_px.len(), self.conv.activation);
        #[cfg(target_arch = "x86_64")]
        if super::x86::avx512() {
            let params = [&self.bias[..], &self.slope[..]];
            // SAFETY: the CPU has AVX-512F; the kernel checks its reads and writes.
            unsafe { super::x86::depthwise_pixel_avx512(x, &self.filter, (base, taps), params, activation, out_px) };
            return;
        }
        // One check for every read and write below, instead of one per tap and store (as in `pixels`).
        self.check_ends(x, (base, taps), (1, 0), c, out_px);
        let act = Act4::of(activation);
        let mut ch = 0;
        while ch + 16 <= c {
            // SAFETY: ch + 16 <= c / 4 * 4, within the checks above.
            unsafe { self.alone_blocks::<4>(x, base, taps, act, ch, out_px) };
            ch += 16;
        }
        if ch + 8 <= c {
            // SAFETY: as above.
            unsafe { self.alone_blocks::<2>(x, base, taps, act, ch, out_px) };
            ch += 8;
        }
        if ch + 4 <= c {
            // SAFETY: as above.
            unsafe { self.alone_blocks::<1>(x, base, taps, act, ch, out_px) };
        }
    }

    /// Channels `ch..ch + 4 * B` of one pixel: a running sum per block of four over the taps, then bias and
    /// activation.
    ///
    /// # Safety
    /// `ch + 4 * B <= c / 4 * 4`, and the checks of `pixel_alone` (the taps' reads, the filter, the bias and
    /// `out_px`) have passed.
    #[inline(always)]
    unsafe fn alone_blocks<const B: usize>(
        &self,
        x: &[f32],
        base: usize,
        taps: &[(usize, usize)],
        act: Act4,
        ch: usize,
        out_px: &mut [f32],
    ) {
        let mut acc = [F4::splat(0.0); B];
        // SAFETY: the caller's promise.
        unsafe {
            for &(xi, wi) in taps {
                for (j, a) in acc.iter_mut().enumerate() {
                    let at = ch + 4 * j;
                    let v = F4::load_unchecked(x, base.wrapping_add(xi) + at);
                    *a = a.mul_add(v, F4::load_unchecked(&self.filter, wi + at));
                }
            }
            for (j, a) in acc.iter().enumerate() {
                let at = ch + 4 * j;
                let (bias, slope) = (F4::load_unchecked(&self.bias, at), F4::load_unchecked(&self.slope, at));
                act.apply(*a + bias, slope).store_unchecked(out_px, at);
            }
        }
    }

    /// The channels past the last multiple of four of one output row, one value at a time.
    fn leftover_channels(&self, x: &[f32], [h, w, c]: [usize; 3], row: &RowTaps, out_row: &mut [f32]) {
        let c4 = c.div_ceil(4) * 4;
        let ((ky0, ky1), (step_y, step_x)) = (row.ky, row.steps);
        for ch in c / 4 * 4..c {
            for (ox, &(kx0, kx1)) in row.cols.iter().enumerate() {
                let ix0 = (ox * self.conv.stride[1]) as isize - row.pad_left as isize;
                let base = ((row.b * h) as isize + row.iy0) * (w * c) as isize + ix0 * c as isize + ch as isize;
                let mut acc = 0.0;
                for ky in ky0..ky1 {
                    for kx in kx0..kx1 {
                        let xi = (base + (ky * step_y + kx * step_x) as isize) as usize;
                        acc += x[xi] * self.filter[(ky * self.kw + kx) * c4 + ch];
                    }
                }
                out_row[ox * c + ch] = activate(acc + self.bias[ch], self.conv.activation, &self.slope, ch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tap_ranges;

    #[test]
    fn tap_ranges_clip_at_the_borders() {
        // 5 wide, 3 taps, stride 1, SAME (pad 1): the first and last outputs lose one tap.
        assert_eq!(tap_ranges(5, 5, 3, 1, 1, 1), vec![(1, 3), (0, 3), (0, 3), (0, 3), (0, 2)]);
        // Stride 2 over 4, pad 0 before (TFLite puts the odd padding after).
        assert_eq!(tap_ranges(2, 4, 3, 2, 1, 0), vec![(0, 3), (0, 2)]);
        // Dilation 2, 7x7 global (VALID).
        assert_eq!(tap_ranges(1, 7, 7, 1, 1, 0), vec![(0, 7)]);
    }
}
