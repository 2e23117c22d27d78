//! Plain scalar kernels, NHWC and f32, written for clarity: the reference that every faster kernel (SIMD, GPU)
//! is tested against. Each follows TensorFlow Lite's reference kernels in what it computes; the order of the
//! additions may differ, which is why comparisons use tolerances.
//!
//! Shapes have been checked by shape inference before a kernel runs; kernels only index within them.

use crate::model::shape::strides;
use crate::model::shape::window;
use crate::model::{Activation, Conv, Pool};

/// Applies an activation to one value of output channel `c`. `slope` holds PReLU's per-channel slopes.
#[inline]
pub fn activate(v: f32, activation: Activation, slope: &[f32], c: usize) -> f32 {
    match activation {
        Activation::None => v,
        Activation::Relu => v.max(0.0),
        Activation::Relu6 => v.clamp(0.0, 6.0),
        Activation::ReluN1To1 => v.clamp(-1.0, 1.0),
        Activation::Prelu => {
            if v >= 0.0 {
                v
            } else {
                v * slope[if slope.len() == 1 { 0 } else { c }]
            }
        }
    }
}

/// Direct convolution. x: [n, h, w, ci], filter: [co, kh, kw, ci], bias: [co] -> [n, oh, ow, co].
pub fn conv2d(
    x: &[f32],
    xs: [usize; 4],
    filter: &[f32],
    fs: [usize; 4],
    bias: &[f32],
    slope: &[f32],
    conv: &Conv,
) -> Vec<f32> {
    let [n, h, w, ci] = xs;
    let [co, kh, kw, _] = fs;
    let (oh, pad_top) = window(h, kh, conv.stride[0], conv.dilation[0], conv.padding).expect("shape checked");
    let (ow, pad_left) = window(w, kw, conv.stride[1], conv.dilation[1], conv.padding).expect("shape checked");
    let mut out = vec![0.0; n * oh * ow * co];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let out_px = &mut out[((b * oh + oy) * ow + ox) * co..][..co];
                for (oc, o) in out_px.iter_mut().enumerate() {
                    // One running sum over the taps, then the bias: TFLite's reference order.
                    let mut acc = 0.0;
                    for ky in 0..kh {
                        let Some(iy) = source(oy, ky, conv.stride[0], conv.dilation[0], pad_top, h) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = source(ox, kx, conv.stride[1], conv.dilation[1], pad_left, w) else {
                                continue;
                            };
                            let xv = &x[((b * h + iy) * w + ix) * ci..][..ci];
                            let wv = &filter[((oc * kh + ky) * kw + kx) * ci..][..ci];
                            acc = xv.iter().zip(wv).fold(acc, |a, (x, w)| a + x * w);
                        }
                    }
                    *o = activate(acc + bias[oc], conv.activation, slope, oc);
                }
            }
        }
    }
    out
}

/// A convolution without activation, plus `skip` ([n, oh, ow, c <= co]; the missing channels are zeros),
/// then the activation: what CONV_2D, PAD and ADD compute separately, value for value.
pub fn conv2d_add(
    x: &[f32],
    xs: [usize; 4],
    filter: &[f32],
    fs: [usize; 4],
    bias: &[f32],
    skip: &[f32],
    conv: &Conv,
) -> Vec<f32> {
    let mut out = conv2d(x, xs, filter, fs, bias, &[], &Conv { activation: Activation::None, ..*conv });
    let skip_channels = skip.len() / (out.len() / fs[0]);
    for (o, s) in out.chunks_exact_mut(fs[0]).zip(skip.chunks_exact(skip_channels)) {
        for (c, v) in o.iter_mut().enumerate() {
            let added = *v + s.get(c).copied().unwrap_or(0.0);
            *v = activate(added, conv.activation, &[], c);
        }
    }
    out
}

/// Depthwise convolution with depth multiplier 1. x: [n, h, w, c], filter: [1, kh, kw, c] -> [n, oh, ow, c].
pub fn depthwise_conv2d(
    x: &[f32],
    xs: [usize; 4],
    filter: &[f32],
    fs: [usize; 4],
    bias: &[f32],
    slope: &[f32],
    conv: &Conv,
) -> Vec<f32> {
    let [n, h, w, c] = xs;
    let [_, kh, kw, _] = fs;
    let (oh, pad_top) = window(h, kh, conv.stride[0], conv.dilation[0], conv.padding).expect("shape checked");
    let (ow, pad_left) = window(w, kw, conv.stride[1], conv.dilation[1], conv.padding).expect("shape checked");
    let mut out = vec![0.0; n * oh * ow * c];
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let out_px = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                out_px.fill(0.0);
                for ky in 0..kh {
                    let Some(iy) = source(oy, ky, conv.stride[0], conv.dilation[0], pad_top, h) else { continue };
                    for kx in 0..kw {
                        let Some(ix) = source(ox, kx, conv.stride[1], conv.dilation[1], pad_left, w) else { continue };
                        let xv = &x[((b * h + iy) * w + ix) * c..][..c];
                        let wv = &filter[(ky * kw + kx) * c..][..c];
                        for ((o, &xi), &wi) in out_px.iter_mut().zip(xv).zip(wv) {
                            *o += xi * wi;
                        }
                    }
                }
                for (ch, o) in out_px.iter_mut().enumerate() {
                    *o = activate(*o + bias[ch], conv.activation, slope, ch);
                }
            }
        }
    }
    out
}

/// The input row or column that output position `o` reads at filter tap `k`, or None in the padding.
#[inline]
fn source(o: usize, k: usize, stride: usize, dilation: usize, pad: usize, size: usize) -> Option<usize> {
    (o * stride + k * dilation).checked_sub(pad).filter(|&i| i < size)
}

/// A running sum from zero, in order (no reassociation), as TFLite's reference kernels add.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |acc, (x, y)| acc + x * y)
}

/// Fully connected: x as `rows` rows of `width`, filter [out, width] -> [rows, out].
pub fn fully_connected(
    x: &[f32],
    rows: usize,
    filter: &[f32],
    out_features: usize,
    bias: &[f32],
    slope: &[f32],
    activation: Activation,
) -> Vec<f32> {
    let width = filter.len() / out_features.max(1);
    let mut out = Vec::with_capacity(rows * out_features);
    for r in 0..rows {
        let xr = &x[r * width..][..width];
        for o in 0..out_features {
            let v = dot(xr, &filter[o * width..][..width]) + bias[o];
            out.push(activate(v, activation, slope, o));
        }
    }
    out
}

/// For each element of `out_shape`, the index of the element of `shape` that broadcasts onto it.
fn broadcast_index(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = out_shape.len() - shape.len();
    let out_strides = strides(out_shape);
    let total: usize = out_shape.iter().product();
    (0..total)
        .map(|i| {
            (0..shape.len())
                .filter(|&d| shape[d] != 1)
                .map(|d| (i / out_strides[d + offset]) % out_shape[d + offset] * own[d])
                .sum()
        })
        .collect()
}

/// Elementwise binary op with numpy broadcasting, then a ReLU-family activation.
pub fn binary(
    a: &[f32],
    a_shape: &[usize],
    b: &[f32],
    b_shape: &[usize],
    out_shape: &[usize],
    activation: Activation,
    f: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let act = |v: f32| activate(v, activation, &[], 0);
    if a_shape == b_shape {
        return a.iter().zip(b).map(|(&x, &y)| act(f(x, y))).collect();
    }
    let ia = broadcast_index(a_shape, out_shape);
    let ib = broadcast_index(b_shape, out_shape);
    ia.iter().zip(&ib).map(|(&i, &j)| act(f(a[i], b[j]))).collect()
}

/// Max or average pooling. Average pooling divides by the number of taps inside the input, as TFLite does.
pub fn pool2d(x: &[f32], xs: [usize; 4], pool: &Pool, max: bool) -> Vec<f32> {
    let [n, h, w, c] = xs;
    let (oh, pad_top) = window(h, pool.filter[0], pool.stride[0], 1, pool.padding).expect("shape checked");
    let (ow, pad_left) = window(w, pool.filter[1], pool.stride[1], 1, pool.padding).expect("shape checked");
    let mut out = Vec::with_capacity(n * oh * ow * c);
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                    let mut count = 0;
                    for ky in 0..pool.filter[0] {
                        let Some(iy) = source(oy, ky, pool.stride[0], 1, pad_top, h) else { continue };
                        for kx in 0..pool.filter[1] {
                            let Some(ix) = source(ox, kx, pool.stride[1], 1, pad_left, w) else { continue };
                            let v = x[((b * h + iy) * w + ix) * c + ch];
                            acc = if max { acc.max(v) } else { acc + v };
                            count += 1;
                        }
                    }
                    let v = if max { acc } else { acc / count.max(1) as f32 };
                    out.push(activate(v, pool.activation, &[], 0));
                }
            }
        }
    }
    out
}

/// Padding with `value`, any rank: each innermost row of the input is copied to its place in the output.
pub fn pad(x: &[f32], shape: &[usize], pads: &[[usize; 2]], value: f32, out_shape: &[usize]) -> Vec<f32> {
    let total: usize = out_shape.iter().product();
    let mut out = vec![value; total];
    let Some(&row_len) = shape.last() else {
        out.copy_from_slice(x); // a scalar
        return out;
    };
    let rank = shape.len();
    if pads[..rank - 1].iter().all(|p| *p == [0, 0]) {
        // Only the last dimension grows (BlazeFace's channel padding): row r stays row r.
        let out_len = out_shape[rank - 1];
        for (row, out_row) in x.chunks_exact(row_len.max(1)).zip(out.chunks_exact_mut(out_len)) {
            out_row[pads[rank - 1][0]..][..row_len].copy_from_slice(row);
        }
        return out;
    }
    let in_strides = strides(shape);
    let out_strides = strides(out_shape);
    for (r, row) in x.chunks_exact(row_len.max(1)).enumerate() {
        let i = r * row_len;
        let o: usize = (0..rank).map(|d| ((i / in_strides[d]) % shape[d] + pads[d][0]) * out_strides[d]).sum();
        out[o..o + row_len].copy_from_slice(row);
    }
    out
}

/// The part of `x` from `starts` (one per dimension after the batch) of `out_shape`.
pub fn slice(x: &[f32], shape: &[usize], starts: &[usize], out_shape: &[usize]) -> Vec<f32> {
    let in_strides = strides(shape);
    let start = |d: usize| if d == 0 { 0 } else { starts[d - 1] };
    (0..out_shape.iter().product::<usize>())
        .map(|i| {
            let mut rest = i;
            let mut src = 0;
            for d in (0..out_shape.len()).rev() {
                src += (rest % out_shape[d] + start(d)) * in_strides[d];
                rest /= out_shape[d];
            }
            x[src]
        })
        .collect()
}

/// Transposition: output dimension d is input dimension `perm[d]`.
pub fn transpose(x: &[f32], shape: &[usize], perm: &[usize]) -> Vec<f32> {
    let in_strides = strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    (0..x.len())
        .map(|i| {
            let mut rest = i;
            let mut src = 0;
            for d in (0..out_shape.len()).rev() {
                src += rest % out_shape[d] * in_strides[perm[d]];
                rest /= out_shape[d];
            }
            x[src]
        })
        .collect()
}

/// Concatenation along `axis`.
pub fn concat(parts: &[(&[f32], &[usize])], axis: usize, out_shape: &[usize]) -> Vec<f32> {
    let outer: usize = out_shape[..axis].iter().product();
    let inner: usize = out_shape[axis + 1..].iter().product();
    let mut out = Vec::with_capacity(out_shape.iter().product());
    for o in 0..outer {
        for (data, shape) in parts {
            let chunk = shape[axis] * inner;
            out.extend_from_slice(&data[o * chunk..][..chunk]);
        }
    }
    out
}

/// Bilinear resize with TFLite's coordinate rules (align_corners, half_pixel_centers).
pub fn resize_bilinear(
    x: &[f32],
    xs: [usize; 4],
    size: [usize; 2],
    align_corners: bool,
    half_pixel_centers: bool,
) -> Vec<f32> {
    let [n, h, w, c] = xs;
    let [oh, ow] = size;
    let rows = bilinear_taps(h, oh, align_corners, half_pixel_centers);
    let cols = bilinear_taps(w, ow, align_corners, half_pixel_centers);
    let mut out = Vec::with_capacity(n * oh * ow * c);
    for b in 0..n {
        for &(y0, y1, dy) in &rows {
            for &(x0, x1, dx) in &cols {
                let at = |yy: usize, xx: usize, ch: usize| x[((b * h + yy) * w + xx) * c + ch];
                for ch in 0..c {
                    out.push(
                        at(y0, x0, ch) * (1.0 - dy) * (1.0 - dx)
                            + at(y1, x0, ch) * dy * (1.0 - dx)
                            + at(y0, x1, ch) * (1.0 - dy) * dx
                            + at(y1, x1, ch) * dy * dx,
                    );
                }
            }
        }
    }
    out
}

/// Where bilinear resizing samples a dimension of `input` positions for each of `output` positions, as
/// TFLite does: the lower and upper neighbours and the weight of the upper one.
pub fn bilinear_taps(
    input: usize,
    output: usize,
    align_corners: bool,
    half_pixel_centers: bool,
) -> Vec<(usize, usize, f32)> {
    let scale = if align_corners && output > 1 {
        (input - 1) as f32 / (output - 1) as f32
    } else {
        input as f32 / output as f32
    };
    (0..output)
        .map(|o| {
            let s = if half_pixel_centers { (o as f32 + 0.5) * scale - 0.5 } else { o as f32 * scale };
            let lo = ((s.floor() as i64).max(0) as usize).min(input - 1);
            let hi = (s.ceil() as usize).min(input - 1);
            (lo, hi, s - lo as f32)
        })
        .collect()
}

/// Reduction (max or sum) over `axes`; the output keeps the input's order of the other axes.
pub fn reduce(x: &[f32], shape: &[usize], axes: &[usize], max: bool) -> Vec<f32> {
    let kept: Vec<usize> = shape.iter().enumerate().map(|(d, &s)| if axes.contains(&d) { 1 } else { s }).collect();
    let total: usize = kept.iter().product();
    let mut out = vec![if max { f32::NEG_INFINITY } else { 0.0 }; total];
    let in_strides = strides(shape);
    let out_strides = strides(&kept);
    for (i, &v) in x.iter().enumerate() {
        let o: usize = (0..shape.len())
            .filter(|d| !axes.contains(d))
            .map(|d| (i / in_strides[d]) % shape[d] * out_strides[d])
            .sum();
        out[o] = if max { out[o].max(v) } else { out[o] + v };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Padding;

    #[test]
    fn conv_same_padding_by_hand() {
        // 3x3 input of 1..9, 3x3 filter of ones, SAME: each output is the sum of its neighbourhood.
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let conv = Conv { padding: Padding::Same, stride: [1, 1], dilation: [1, 1], activation: Activation::None };
        let out = conv2d(&x, [1, 3, 3, 1], &[1.0; 9], [1, 3, 3, 1], &[0.5], &[], &conv);
        assert_eq!(out, vec![12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5]);
    }

    #[test]
    fn depthwise_stride_two_by_hand() {
        let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let conv = Conv { padding: Padding::Valid, stride: [2, 2], dilation: [1, 1], activation: Activation::Relu };
        let out = depthwise_conv2d(&x, [1, 4, 4, 1], &[1.0, 0.0, 0.0, -1.0], [1, 2, 2, 1], &[0.0], &[], &conv);
        assert_eq!(out, vec![0.0; 4]); // x[y][x] - x[y+1][x+1] = -5, clipped by ReLU
    }

    #[test]
    fn average_pool_ignores_padding() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let pool = Pool { padding: Padding::Same, filter: [2, 2], stride: [1, 1], activation: Activation::None };
        assert_eq!(pool2d(&x, [1, 2, 2, 1], &pool, false), vec![2.5, 3.0, 3.5, 4.0]);
        assert_eq!(pool2d(&x, [1, 2, 2, 1], &pool, true), vec![4.0, 4.0, 4.0, 4.0]);
    }

    #[test]
    fn broadcast_pad_concat_reduce() {
        let out = binary(&[1.0, 2.0, 3.0, 4.0], &[2, 2], &[10.0, 20.0], &[2], &[2, 2], Activation::None, |a, b| a + b);
        assert_eq!(out, vec![11.0, 22.0, 13.0, 24.0]);
        assert_eq!(pad(&[1.0, 2.0], &[1, 2], &[[0, 0], [1, 2]], 0.0, &[1, 5]), vec![0.0, 1.0, 2.0, 0.0, 0.0]);
        assert_eq!(pad(&[1.0, 2.0], &[1, 2], &[[0, 0], [0, 1]], -9.0, &[1, 3]), vec![1.0, 2.0, -9.0]);
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        // [2, 3, 2]: rows 1..3 of each batch item, the second column.
        assert_eq!(slice(&x, &[2, 3, 2], &[1, 1], &[2, 2, 1]), vec![3.0, 5.0, 9.0, 11.0]);
        assert_eq!(transpose(&x, &[1, 3, 4], &[0, 2, 1])[..6], [0.0, 4.0, 8.0, 1.0, 5.0, 9.0]);
        let c = concat(&[(&[1.0, 2.0], &[2, 1]), (&[3.0, 4.0], &[2, 1])], 1, &[2, 2]);
        assert_eq!(c, vec![1.0, 3.0, 2.0, 4.0]);
        assert_eq!(reduce(&[1.0, 5.0, 3.0, 2.0], &[2, 2], &[1], true), vec![5.0, 3.0]);
        assert_eq!(reduce(&[1.0, 5.0, 3.0, 2.0], &[2, 2], &[0], false), vec![4.0, 7.0]);
    }

    #[test]
    fn resize_doubles_with_half_pixel_centers() {
        let out = resize_bilinear(&[0.0, 1.0], [1, 1, 2, 1], [1, 4], false, true);
        assert_eq!(out, vec![0.0, 0.25, 0.75, 1.0]);
    }
}
