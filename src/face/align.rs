//! Alignment: a similarity transform (Umeyama, least squares) from facial landmarks onto the ArcFace
//! 112x112 template, and the bilinear warps every stage uses to cut its input out of a frame.
//!
//! Coordinates: points given in frames are continuous (the top-left pixel spans 0..1, its centre is at 0.5).
//! The template follows OpenCV, whose pixel centres are at integers; `face_map` accounts for the half pixel.

use crate::frame::Rgb;

/// The side of an aligned face crop.
pub const CROP: usize = 112;

/// ArcFace's 112x112 template: eye on the image's left, other eye, nose tip, mouth corners (left, right).
pub const TEMPLATE: [[f32; 2]; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// The template's mouth centre, for landmark sets with a single mouth point (BlazeFace).
pub const TEMPLATE_MOUTH_CENTRE: [f32; 2] = [56.1396, 92.2848];

/// An affine map from output pixel centres to source coordinates: src = [a b c; d e f] * [x y 1].
/// Source coordinates are continuous (pixel centres at +0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    /// The map that scales a `w` x `h` image onto `size` x `size`.
    pub fn scale(w: usize, h: usize, size: usize) -> Affine {
        let (sx, sy) = (w as f32 / size as f32, h as f32 / size as f32);
        Affine([sx, 0.0, 0.5 * sx, 0.0, sy, 0.5 * sy])
    }

    #[inline]
    pub fn apply(&self, x: f32, y: f32) -> [f32; 2] {
        let m = &self.0;
        [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]
    }

    /// The inverse map (None when singular).
    pub fn inverse(&self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * e - b * d;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine([ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)]))
    }
}

/// What a warp reads outside the source: its nearest edge pixel, or black.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Clamp,
    Black,
}

/// Bilinear warp: output pixel (x, y) samples the source at `map(x + 0.5, y + 0.5)`.
pub fn warp(src: &Rgb, map: Affine, out_w: usize, out_h: usize, edge: Edge) -> Rgb {
    let mut data = Vec::with_capacity(out_w * out_h * 3);
    for y in 0..out_h {
        for x in 0..out_w {
            let [sx, sy] = map.apply(x as f32 + 0.5, y as f32 + 0.5);
            data.extend_from_slice(&sample(src, sx - 0.5, sy - 0.5, edge));
        }
    }
    Rgb { width: out_w, height: out_h, data }
}

/// Bilinear sample at pixel-index coordinates (pixel centres at integers).
fn sample(src: &Rgb, x: f32, y: f32, edge: Edge) -> [u8; 3] {
    let (w, h) = (src.width as f32, src.height as f32);
    let (x, y) = match edge {
        Edge::Clamp => (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0)),
        // Far outside (or NaN): black without touching the source.
        Edge::Black if !(x > -1.0 && y > -1.0 && x < w && y < h) => return [0; 3],
        Edge::Black => (x, y),
    };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xi: f32, yi: f32| -> [f32; 3] {
        if xi < 0.0 || yi < 0.0 || xi >= w || yi >= h {
            return [0.0; 3]; // only reachable with Edge::Black
        }
        let p = src.pixel(xi as usize, yi as usize);
        [p[0] as f32, p[1] as f32, p[2] as f32]
    };
    let (p00, p10, p01, p11) = (px(x0, y0), px(x0 + 1.0, y0), px(x0, y0 + 1.0), px(x0 + 1.0, y0 + 1.0));
    let mut out = [0u8; 3];
    for c in 0..3 {
        let top = p00[c] * (1.0 - fx) + p10[c] * fx;
        let bottom = p01[c] * (1.0 - fx) + p11[c] * fx;
        out[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// A crop as it is when already `size` x `size`, else scaled to it.
pub fn fit(src: &Rgb, size: usize) -> Rgb {
    if src.width == size && src.height == size {
        return src.clone();
    }
    warp(src, Affine::scale(src.width, src.height, size), size, size, Edge::Clamp)
}

/// Least-squares similarity transform (rotation, uniform scale, translation) taking `from` onto `to`
/// (Umeyama 1991, without reflection). Returns the affine map, or None for degenerate points.
pub fn umeyama(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Affine> {
    let n = from.len().min(to.len());
    if n < 2 {
        return None;
    }
    let mean = |p: &[[f32; 2]]| {
        let s = p[..n].iter().fold([0.0f64; 2], |a, q| [a[0] + q[0] as f64, a[1] + q[1] as f64]);
        [s[0] / n as f64, s[1] / n as f64]
    };
    let (mf, mt) = (mean(from), mean(to));
    // With complex numbers: to - mt = s * e^(i*theta) * (from - mf). Least squares gives
    // s * e^(i*theta) = sum(conj(f) * t) / sum(|f|^2).
    let (mut re, mut im, mut norm) = (0.0f64, 0.0f64, 0.0f64);
    for k in 0..n {
        let (fx, fy) = (from[k][0] as f64 - mf[0], from[k][1] as f64 - mf[1]);
        let (tx, ty) = (to[k][0] as f64 - mt[0], to[k][1] as f64 - mt[1]);
        re += fx * tx + fy * ty;
        im += fx * ty - fy * tx;
        norm += fx * fx + fy * fy;
    }
    if norm < 1e-9 {
        return None;
    }
    let (a, b) = (re / norm, im / norm);
    let c = mt[0] - (a * mf[0] - b * mf[1]);
    let f = mt[1] - (b * mf[0] + a * mf[1]);
    Some(Affine([a as f32, -b as f32, c as f32, b as f32, a as f32, f as f32]))
}

/// The warp that cuts the aligned 112x112 face for `landmarks` (continuous frame coordinates) matching
/// `template` (OpenCV coordinates), point for point. None when the landmarks are degenerate.
pub fn face_map(landmarks: &[[f32; 2]], template: &[[f32; 2]]) -> Option<Affine> {
    // Template coordinates are pixel-centre-at-integer: move them to continuous coordinates first.
    let to: Vec<[f32; 2]> = template.iter().map(|p| [p[0] + 0.5, p[1] + 0.5]).collect();
    umeyama(landmarks, &to)?.inverse()
}

/// Averages `factor` x `factor` blocks: a clean downscale before a bilinear warp shrinks a large frame.
pub fn shrink(src: &Rgb, factor: usize) -> Rgb {
    if factor <= 1 {
        return src.clone();
    }
    let (w, h) = (src.width / factor, src.height / factor);
    let (w, h) = (w.max(1), h.max(1));
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0u32; 3];
            let mut count = 0;
            for yy in y * factor..((y + 1) * factor).min(src.height) {
                for xx in x * factor..((x + 1) * factor).min(src.width) {
                    let p = src.pixel(xx, yy);
                    (0..3).for_each(|c| sum[c] += p[c] as u32);
                    count += 1;
                }
            }
            data.extend(sum.iter().map(|s| ((s + count / 2) / count.max(1)) as u8));
        }
    }
    Rgb { width: w, height: h, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umeyama_recovers_a_similarity() {
        // 30 degrees, scale 2, shift (5, -3).
        let (c, s) = (30f32.to_radians().cos() * 2.0, 30f32.to_radians().sin() * 2.0);
        let from = TEMPLATE;
        let to: Vec<[f32; 2]> = from.iter().map(|p| [c * p[0] - s * p[1] + 5.0, s * p[0] + c * p[1] - 3.0]).collect();
        let m = umeyama(&from, &to).unwrap();
        for (p, q) in from.iter().zip(&to) {
            let r = m.apply(p[0], p[1]);
            assert!((r[0] - q[0]).abs() < 1e-3 && (r[1] - q[1]).abs() < 1e-3, "{r:?} vs {q:?}");
        }
        let back = m.inverse().unwrap().apply(to[0][0], to[0][1]);
        assert!((back[0] - from[0][0]).abs() < 1e-3 && (back[1] - from[0][1]).abs() < 1e-3);
        assert!(umeyama(&[[1.0, 1.0], [1.0, 1.0]], &[[0.0, 0.0], [2.0, 2.0]]).is_none());
    }

    #[test]
    fn identity_warp_keeps_pixels_and_black_edges_pad() {
        let src = Rgb::new(2, 2, vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]).unwrap();
        let same = warp(&src, Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]), 2, 2, Edge::Clamp);
        assert_eq!(same, src);
        let shifted = warp(&src, Affine([1.0, 0.0, -2.0, 0.0, 1.0, 0.0]), 2, 2, Edge::Black);
        assert_eq!(&shifted.data[..3], &[0, 0, 0]);
    }

    #[test]
    fn shrink_averages_blocks() {
        let src = Rgb::new(2, 1, vec![0, 0, 0, 255, 255, 255]).unwrap();
        assert_eq!(shrink(&src, 2).data, vec![128, 128, 128]);
    }
}
