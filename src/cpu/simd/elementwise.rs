//! Elementwise ops and pooling over four lanes: same-shape add, subtract and multiply with a fused ReLU-family
//! activation, max / average pooling and bilinear resizing with channels four at a time. Results equal the
//! reference kernels' (one operation per element, in the same order).

use super::lanes::F4;
use super::{activate4, tap_ranges, Act4};
use crate::cpu::reference::{activate, bilinear_taps};
use crate::model::shape::window;
use crate::model::{Activation, Pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
}

/// `a op b` for two tensors of the same shape, then the activation (not PReLU: it has no slope here).
/// Every element of `out` (as long as `a`) is written.
pub fn binary(a: &[f32], b: &[f32], op: Binary, activation: Activation, out: &mut [f32]) {
    debug_assert_eq!(a.len(), b.len());
    let out = &mut out[..a.len()];
    let act = Act4::of(activation);
    // The op chosen once, not per vector.
    match op {
        Binary::Add => binary_lanes(a, b, act, out, |x, y| x + y),
        Binary::Sub => binary_lanes(a, b, act, out, |x, y| x + y * F4::splat(-1.0)),
        Binary::Mul => binary_lanes(a, b, act, out, |x, y| x * y),
    }
    for i in a.len() / 4 * 4..a.len() {
        let v = match op {
            Binary::Add => a[i] + b[i],
            Binary::Sub => a[i] - b[i],
            Binary::Mul => a[i] * b[i],
        };
        out[i] = activate(v, activation, &[], 0);
    }
}

/// `binary`'s whole vectors: `act(op(a, b))`, four lanes at a time.
#[inline(always)]
fn binary_lanes(a: &[f32], b: &[f32], act: Act4, out: &mut [f32], op: impl Fn(F4, F4) -> F4) {
    let zero = F4::splat(0.0);
    for ((o, x), y) in out.chunks_exact_mut(4).zip(a.chunks_exact(4)).zip(b.chunks_exact(4)) {
        act.apply(op(F4::load(x), F4::load(y)), zero).store(o);
    }
}

/// `a op s` (or `s op a` when `scalar_first`) for a tensor and one value, then the activation: a tensor
/// scaled or shifted by a constant. Every element of `out` (as long as `a`) is written.
pub fn binary_scalar(a: &[f32], s: f32, scalar_first: bool, op: Binary, activation: Activation, out: &mut [f32]) {
    let out = &mut out[..a.len()];
    let (zero, s4) = (F4::splat(0.0), F4::splat(s));
    let apply = |x: F4| {
        let v = match (op, scalar_first) {
            (Binary::Add, _) => x + s4,
            (Binary::Sub, false) => x + s4 * F4::splat(-1.0),
            (Binary::Sub, true) => s4 + x * F4::splat(-1.0),
            (Binary::Mul, _) => x * s4,
        };
        activate4(v, activation, zero)
    };
    let body = a.len() / 4 * 4;
    for i in (0..body).step_by(4) {
        apply(F4::load(&a[i..])).store(&mut out[i..]);
    }
    for i in body..a.len() {
        let v = match (op, scalar_first) {
            (Binary::Add, _) => a[i] + s,
            (Binary::Sub, false) => a[i] - s,
            (Binary::Sub, true) => s - a[i],
            (Binary::Mul, _) => a[i] * s,
        };
        out[i] = activate(v, activation, &[], 0);
    }
}

/// Max or average pooling, channels four at a time (average: over the taps inside the input, as TFLite).
/// Every element of `out` is written.
pub fn pool2d(x: &[f32], xs: [usize; 4], pool: &Pool, max: bool, out: &mut [f32]) {
    let [n, h, w, c] = xs;
    let (oh, pad_top) = window(h, pool.filter[0], pool.stride[0], 1, pool.padding).expect("shape checked");
    let (ow, pad_left) = window(w, pool.filter[1], pool.stride[1], 1, pool.padding).expect("shape checked");
    let out = &mut out[..n * oh * ow * c];
    let rows = tap_ranges(oh, h, pool.filter[0], pool.stride[0], 1, pad_top);
    let cols = tap_ranges(ow, w, pool.filter[1], pool.stride[1], 1, pad_left);
    let whole = |ranges: &[(usize, usize)]| ranges.iter().all(|&r| r == (0, 2));
    let two_by_two = pool.filter == [2, 2] && pool.stride == [2, 2] && oh * ow * c > 0 && c.is_multiple_of(4);
    if two_by_two && whole(&rows) && whole(&cols) {
        pool2x2(x, xs, [oh, ow], max, pool.activation, out);
        return;
    }
    let blocks = c / 4;
    let zero = F4::splat(0.0);
    let start = F4::splat(if max { f32::NEG_INFINITY } else { 0.0 });
    // The input offsets of one output pixel's taps inside the input: at most the filter's area clipped to
    // the input (a file may declare a window far larger than its input).
    let mut taps = Vec::with_capacity(pool.filter[0].min(h) * pool.filter[1].min(w));
    for b in 0..n {
        for (oy, &(ky0, ky1)) in rows.iter().enumerate() {
            for (ox, &(kx0, kx1)) in cols.iter().enumerate() {
                taps.clear();
                for ky in ky0..ky1 {
                    let iy = oy * pool.stride[0] + ky - pad_top;
                    for kx in kx0..kx1 {
                        taps.push(((b * h + iy) * w + ox * pool.stride[1] + kx - pad_left) * c);
                    }
                }
                let taps_inside = taps.len().max(1) as f32;
                let count = F4::splat(taps_inside);
                let out_px = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                let body = &mut out_px[..blocks * 4];
                // Tap by tap over the pixel's channels (each a contiguous run), in the reference's order.
                for o in body.chunks_exact_mut(4) {
                    start.store(o);
                }
                for &at in &taps {
                    let src = &x[at..][..blocks * 4];
                    for (o, v) in body.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                        let (acc, v) = (F4::load(o), F4::load(v));
                        (if max { acc.max(v) } else { acc + v }).store(o);
                    }
                }
                if !max || pool.activation != Activation::None {
                    for o in body.chunks_exact_mut(4) {
                        let acc = F4::load(o);
                        let v = if max { acc } else { acc / count };
                        activate4(v, pool.activation, zero).store(o);
                    }
                }
                for ch in 4 * blocks..c {
                    let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                    for &at in &taps {
                        let v = x[at + ch];
                        acc = if max { acc.max(v) } else { acc + v };
                    }
                    out_px[ch] = activate(if max { acc } else { acc / taps_inside }, pool.activation, &[], 0);
                }
            }
        }
    }
}

/// `pool2d` where every window is a whole 2x2 at stride 2 (so no padding before the input), the output
/// ([oh, ow] per image, from `pool2d`) is not empty and the channels are whole blocks of four (BlazeFace's
/// pools): two input rows per output row, four zipped runs of each pixel pair's channels, the taps in the
/// reference's order. Through the tap list, which keeps each block's value in the output between taps,
/// BlazeFace full range's pools took twice as long natively (0.105 -> 0.050 ms).
fn pool2x2(
    x: &[f32],
    [n, h, w, c]: [usize; 4],
    [oh, ow]: [usize; 2],
    max: bool,
    activation: Activation,
    out: &mut [f32],
) {
    let (act, zero, count) = (Act4::of(activation), F4::splat(0.0), F4::splat(4.0));
    let start = F4::splat(if max { f32::NEG_INFINITY } else { 0.0 });
    for (image, out_image) in x.chunks_exact(h * w * c).zip(out.chunks_exact_mut(oh * ow * c)).take(n) {
        for (oy, out_row) in out_image.chunks_exact_mut(ow * c).enumerate() {
            let top = &image[2 * oy * w * c..][..2 * ow * c];
            let bottom = &image[(2 * oy + 1) * w * c..][..2 * ow * c];
            let pairs = top.chunks_exact(2 * c).zip(bottom.chunks_exact(2 * c));
            for (out_px, (upper, lower)) in out_row.chunks_exact_mut(c).zip(pairs) {
                let (p00, p01) = upper.split_at(c);
                let (p10, p11) = lower.split_at(c);
                // Zipped four-lane chunks: no index, so no bounds checks.
                let taps =
                    p00.chunks_exact(4).zip(p01.chunks_exact(4)).zip(p10.chunks_exact(4)).zip(p11.chunks_exact(4));
                for (o, (((t0, t1), t2), t3)) in out_px.chunks_exact_mut(4).zip(taps) {
                    let [t0, t1, t2, t3] = [t0, t1, t2, t3].map(F4::load);
                    let v =
                        if max { start.max(t0).max(t1).max(t2).max(t3) } else { (start + t0 + t1 + t2 + t3) / count };
                    act.apply(v, zero).store(o);
                }
            }
        }
    }
}

/// Bilinear resizing of [n, h, w, c] to [n, size[0], size[1], c], channels four at a time; the sampling is
/// the reference's (`bilinear_taps`) and so is each value's arithmetic. Every element of `out` is written.
pub fn resize_bilinear(x: &[f32], xs: [usize; 4], size: [usize; 2], corners: [bool; 2], out: &mut [f32]) {
    let [n, h, w, c] = xs;
    let [align_corners, half_pixel_centers] = corners;
    let rows = bilinear_taps(h, size[0], align_corners, half_pixel_centers);
    let cols = bilinear_taps(w, size[1], align_corners, half_pixel_centers);
    let out = &mut out[..n * size[0] * size[1] * c];
    let mut at = 0;
    for b in 0..n {
        let image = &x[b * h * w * c..][..h * w * c];
        for &(y0, y1, dy) in &rows {
            for &(x0, x1, dx) in &cols {
                let px = |yy: usize, xx: usize| &image[(yy * w + xx) * c..][..c];
                let (p00, p10, p01, p11) = (px(y0, x0), px(y1, x0), px(y0, x1), px(y1, x1));
                let weights = [1.0 - dy, dy, 1.0 - dx, dx];
                mix4(p00, p10, p01, p11, weights, &mut out[at..][..c]);
                at += c;
            }
        }
    }
}

/// One output pixel of `resize_bilinear`: p00 (1-dy)(1-dx) + p10 dy (1-dx) + p01 (1-dy) dx + p11 dy dx, in the
/// reference's order, from weights [1-dy, dy, 1-dx, dx].
#[inline(always)]
fn mix4(p00: &[f32], p10: &[f32], p01: &[f32], p11: &[f32], [wy0, wy1, wx0, wx1]: [f32; 4], out: &mut [f32]) {
    let c = out.len();
    let body = c / 4 * 4;
    let (vy0, vy1, vx0, vx1) = (F4::splat(wy0), F4::splat(wy1), F4::splat(wx0), F4::splat(wx1));
    // Zipped four-lane chunks: no index, so no bounds checks.
    let corners = p00.chunks_exact(4).zip(p10.chunks_exact(4)).zip(p01.chunks_exact(4)).zip(p11.chunks_exact(4));
    for (o, (((q00, q10), q01), q11)) in out.chunks_exact_mut(4).zip(corners) {
        let v = F4::load(q00) * vy0 * vx0
            + F4::load(q10) * vy1 * vx0
            + F4::load(q01) * vy0 * vx1
            + F4::load(q11) * vy1 * vx1;
        v.store(o);
    }
    for ch in body..c {
        out[ch] = p00[ch] * wy0 * wx0 + p10[ch] * wy1 * wx0 + p01[ch] * wy0 * wx1 + p11[ch] * wy1 * wx1;
    }
}
