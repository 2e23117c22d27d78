//! Elementwise ops and pooling over four lanes: same-shape add, subtract and multiply with a fused ReLU-family
//! activation, and max / average pooling with channels four at a time. Results equal the reference kernels'
//! (one operation per element, in the same order).

use super::activate4;
use super::lanes::F4;
use crate::cpu::reference::activate;
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
    let zero = F4::splat(0.0);
    let apply = |x: F4, y: F4| {
        let v = match op {
            Binary::Add => x + y,
            Binary::Sub => x + y * F4::splat(-1.0),
            Binary::Mul => x * y,
        };
        activate4(v, activation, zero)
    };
    let body = a.len() / 4 * 4;
    for i in (0..body).step_by(4) {
        apply(F4::load(&a[i..]), F4::load(&b[i..])).store(&mut out[i..]);
    }
    for i in body..a.len() {
        let v = match op {
            Binary::Add => a[i] + b[i],
            Binary::Sub => a[i] - b[i],
            Binary::Mul => a[i] * b[i],
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
    let blocks = c / 4;
    let zero = F4::splat(0.0);
    for b in 0..n {
        for oy in 0..oh {
            let ys: Vec<usize> = (0..pool.filter[0])
                .filter_map(|ky| (oy * pool.stride[0] + ky).checked_sub(pad_top).filter(|&i| i < h))
                .collect();
            for ox in 0..ow {
                let xs_: Vec<usize> = (0..pool.filter[1])
                    .filter_map(|kx| (ox * pool.stride[1] + kx).checked_sub(pad_left).filter(|&i| i < w))
                    .collect();
                let taps = (ys.len() * xs_.len()).max(1) as f32;
                let out_px = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                let at = |iy: usize, ix: usize| ((b * h + iy) * w + ix) * c;
                for blk in 0..blocks {
                    let ch = 4 * blk;
                    let mut acc = F4::splat(if max { f32::NEG_INFINITY } else { 0.0 });
                    for &iy in &ys {
                        for &ix in &xs_ {
                            let v = F4::load(&x[at(iy, ix) + ch..]);
                            acc = if max { acc.max(v) } else { acc + v };
                        }
                    }
                    let v = if max { acc } else { acc / F4::splat(taps) };
                    activate4(v, pool.activation, zero).store(&mut out_px[ch..]);
                }
                for ch in 4 * blocks..c {
                    let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                    for &iy in &ys {
                        for &ix in &xs_ {
                            let v = x[at(iy, ix) + ch];
                            acc = if max { acc.max(v) } else { acc + v };
                        }
                    }
                    out_px[ch] = activate(if max { acc } else { acc / taps }, pool.activation, &[], 0);
                }
            }
        }
    }
}
