//! Degraded copies of real photos, for measuring and testing face quality: blur, darkness, glare, a
//! smaller picture, a turned camera. Shared by the tests and `examples/quality.rs`.
#![allow(dead_code)] // each user takes part of it

use localface::face::align::{shrink, warp, Affine, Edge};
use localface::frame::Rgb;

/// A box blur of radius `r`, run three times (close to a Gaussian of sigma ~ r).
pub fn blur(src: &Rgb, r: usize) -> Rgb {
    (0..3).fold(src.clone(), |img, _| box_pass(&box_pass(&img, r, true), r, false))
}

fn box_pass(src: &Rgb, r: usize, horizontal: bool) -> Rgb {
    let (w, h) = (src.width, src.height);
    let mut data = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0u32; 3];
            for k in 0..=2 * r {
                let (sx, sy) = match horizontal {
                    true => ((x + k).saturating_sub(r).min(w - 1), y),
                    false => (x, (y + k).saturating_sub(r).min(h - 1)),
                };
                let p = src.pixel(sx, sy);
                (0..3).for_each(|c| sum[c] += p[c] as u32);
            }
            let n = (2 * r + 1) as u32;
            (0..3).for_each(|c| data[(y * w + x) * 3 + c] = ((sum[c] + n / 2) / n) as u8);
        }
    }
    Rgb { width: w, height: h, data }
}

/// Every value scaled by `factor` (below 1: darker).
pub fn darken(src: &Rgb, factor: f32) -> Rgb {
    Rgb { data: src.data.iter().map(|&v| (v as f32 * factor).round().min(255.0) as u8).collect(), ..src.clone() }
}

/// Every value pulled towards white: 255 - (255 - v) * `keep`.
pub fn wash_out(src: &Rgb, keep: f32) -> Rgb {
    Rgb { data: src.data.iter().map(|&v| (255.0 - (255.0 - v as f32) * keep).round() as u8).collect(), ..src.clone() }
}

/// The picture `factor` times smaller on each side, placed in the middle of a grey frame of the original
/// size (the face is smaller, the frame is not).
pub fn smaller(src: &Rgb, factor: usize) -> Rgb {
    let small = shrink(src, factor);
    let (ox, oy) = ((src.width - small.width) / 2, (src.height - small.height) / 2);
    let mut data = vec![128u8; src.width * src.height * 3];
    for y in 0..small.height {
        let row = &small.data[y * small.width * 3..][..small.width * 3];
        data[((oy + y) * src.width + ox) * 3..][..small.width * 3].copy_from_slice(row);
    }
    Rgb { data, ..src.clone() }
}

/// The picture turned by `degrees` about its centre (the camera rolled), edges clamped.
pub fn rotated(src: &Rgb, degrees: f32) -> Rgb {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (src.width as f32 / 2.0, src.height as f32 / 2.0);
    // Output pixel (x, y) samples the source at the point turned back about the centre.
    let map = Affine([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy]);
    warp(src, map, src.width, src.height, Edge::Clamp)
}
