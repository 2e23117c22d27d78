//! Depthwise convolution (depth multiplier 1), channels four at a time. For each output pixel the taps that
//! fall inside the input are listed once; each block of four channels then runs through them in registers.
//! Per channel: a running sum over the taps from zero, then the bias, as the reference kernel adds.

use super::lanes::F4;
use super::{activate4, padded};
use crate::cpu::reference::activate;
use crate::model::shape::window;
use crate::model::{Activation, Conv};

/// Depthwise weights with bias and slope padded to whole blocks of four.
#[derive(Debug, Clone)]
pub struct Depthwise {
    kh: usize,
    kw: usize,
    c: usize,
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
        Depthwise { kh, kw, c, filter, bias: padded(bias, c4), slope: padded(slope, c4), conv }
    }

    /// x: [n, h, w, c] -> [n, oh, ow, c]
    pub fn run(&self, x: &[f32], xs: [usize; 4]) -> Vec<f32> {
        let [n, h, w, c] = xs;
        let conv = &self.conv;
        let (oh, pad_top) = window(h, self.kh, conv.stride[0], conv.dilation[0], conv.padding).expect("shape checked");
        let (ow, pad_left) = window(w, self.kw, conv.stride[1], conv.dilation[1], conv.padding).expect("shape checked");
        let c4 = c.div_ceil(4) * 4;
        let blocks = c / 4;
        let mut out = vec![0.0; n * oh * ow * c];
        // (input pixel offset, filter tap offset) of the taps inside the input.
        let mut taps: Vec<(usize, usize)> = Vec::with_capacity(self.kh * self.kw);
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    taps.clear();
                    for ky in 0..self.kh {
                        let Some(iy) =
                            (oy * conv.stride[0] + ky * conv.dilation[0]).checked_sub(pad_top).filter(|&i| i < h)
                        else {
                            continue;
                        };
                        for kx in 0..self.kw {
                            let Some(ix) =
                                (ox * conv.stride[1] + kx * conv.dilation[1]).checked_sub(pad_left).filter(|&i| i < w)
                            else {
                                continue;
                            };
                            taps.push((((b * h + iy) * w + ix) * c, (ky * self.kw + kx) * c4));
                        }
                    }
                    let out_px = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                    for blk in 0..blocks {
                        let ch = 4 * blk;
                        let mut acc = F4::splat(0.0);
                        for &(xi, wi) in &taps {
                            acc = acc.mul_add(F4::load(&x[xi + ch..]), F4::load(&self.filter[wi + ch..]));
                        }
                        let v = acc + F4::load(&self.bias[ch..]);
                        activate4(v, conv.activation, F4::load(&self.slope[ch..])).store(&mut out_px[ch..]);
                    }
                    for ch in 4 * blocks..c {
                        let acc = taps.iter().fold(0.0, |a, &(xi, wi)| a + x[xi + ch] * self.filter[wi + ch]);
                        out_px[ch] = activate(acc + self.bias[ch], conv.activation, &self.slope, ch);
                    }
                }
            }
        }
        out
    }

    pub fn channels(&self) -> usize {
        self.c
    }

    pub fn activation(&self) -> Activation {
        self.conv.activation
    }
}
