//! Alignment: warps a face onto the ArcFace 112x112 template.

use crate::frame::Rgb;

/// The side of an aligned face crop.
pub const CROP: usize = 112;

/// An affine map from output pixel centres to source coordinates: src = [a b c; d e f] * [x y 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    /// The map that scales a `w` x `h` image onto `size` x `size` (pixel centres on pixel centres).
    pub fn scale(w: usize, h: usize, size: usize) -> Affine {
        let (sx, sy) = (w as f32 / size as f32, h as f32 / size as f32);
        Affine([sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5])
    }

    #[inline]
    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let m = &self.0;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }
}

/// Bilinear warp: each output pixel samples the source at `map(x, y)`, clamping at the border.
pub fn warp(src: &Rgb, map: Affine, out_w: usize, out_h: usize) -> Rgb {
    let mut data = Vec::with_capacity(out_w * out_h * 3);
    for y in 0..out_h {
        for x in 0..out_w {
            let (sx, sy) = map.apply(x as f32, y as f32);
            data.extend_from_slice(&sample(src, sx, sy));
        }
    }
    Rgb { width: out_w, height: out_h, data }
}

fn sample(src: &Rgb, x: f32, y: f32) -> [u8; 3] {
    let x = x.clamp(0.0, (src.width - 1) as f32);
    let y = y.clamp(0.0, (src.height - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (p00, p10, p01, p11) =
        (src.pixel(x0, y0), src.pixel(x0 + 1, y0), src.pixel(x0, y0 + 1), src.pixel(x0 + 1, y0 + 1));
    let mut out = [0u8; 3];
    for c in 0..3 {
        let top = p00[c] as f32 * (1.0 - fx) + p10[c] as f32 * fx;
        let bottom = p01[c] as f32 * (1.0 - fx) + p11[c] as f32 * fx;
        out[c] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
}

/// A crop as it is when already `size` x `size`, else scaled to it.
pub fn fit(src: &Rgb, size: usize) -> Rgb {
    if src.width == size && src.height == size {
        return src.clone();
    }
    warp(src, Affine::scale(src.width, src.height, size), size, size)
}
