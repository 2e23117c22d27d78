//! Synthetic occlusions, drawn in the aligned face's own coordinates (the ArcFace 112x112 template): a
//! surgical mask and dark glasses. Drawn on a frame through the face's alignment, they follow its landmarks:
//! the tests and `examples/occlusion.rs` make occluded copies of real photos this way.

use super::align::{Affine, CROP, TEMPLATE};
use crate::frame::Rgb;

/// What covers part of a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occlusion {
    /// A pale blue surgical mask from the nose's bridge to below the chin, cheek to cheek, with pleats.
    Mask,
    /// Dark glasses over both eyes and a bridge between them.
    Sunglasses,
}

impl std::str::FromStr for Occlusion {
    type Err = crate::error::Error;

    fn from_str(s: &str) -> crate::error::Result<Occlusion> {
        match s {
            "mask" => Ok(Occlusion::Mask),
            "sunglasses" => Ok(Occlusion::Sunglasses),
            other => Err(crate::error::unknown_choice("occlusion", other, &["mask", "sunglasses"])),
        }
    }
}

/// The mask's outline in template coordinates: over the nose's bridge, out to the cheeks, under the chin.
const MASK: [[f32; 2]; 10] = [
    [12.0, 66.0],
    [34.0, 59.0],
    [56.0, 57.0],
    [78.0, 59.0],
    [100.0, 66.0],
    [96.0, 100.0],
    [82.0, 116.0],
    [56.0, 122.0],
    [30.0, 116.0],
    [16.0, 100.0],
];

impl Occlusion {
    /// The colour at template point (x, y) (continuous: the crop's pixel centres are at +0.5), or None
    /// where the face shows.
    pub fn colour_at(self, x: f32, y: f32) -> Option<[u8; 3]> {
        match self {
            Occlusion::Mask => inside(&MASK, x, y).then(|| {
                // Pleats: a darker band every 9 pixels down the mask.
                let pleat = ((y - 57.0).rem_euclid(9.0) < 1.5) as u8;
                [168 - 30 * pleat, 200 - 30 * pleat, 222 - 30 * pleat]
            }),
            Occlusion::Sunglasses => {
                let lens = |[cx, cy]: [f32; 2]| ((x - cx) / 14.5).powi(2) + ((y - cy) / 10.0).powi(2) <= 1.0;
                let (left, right) = (TEMPLATE[0], TEMPLATE[1]);
                let bridge = x > left[0] + 12.0 && x < right[0] - 12.0 && (y - (left[1] + right[1]) / 2.0).abs() < 2.0;
                (lens(left) || lens(right) || bridge).then_some([22, 22, 28])
            }
        }
    }

    /// The aligned crop with the occlusion drawn on it.
    pub fn on_crop(self, crop: &Rgb) -> Rgb {
        let mut out = crop.clone();
        for y in 0..crop.height.min(CROP) {
            for x in 0..crop.width.min(CROP) {
                if let Some(c) = self.colour_at(x as f32 + 0.5, y as f32 + 0.5) {
                    out.data[(y * crop.width + x) * 3..][..3].copy_from_slice(&c);
                }
            }
        }
        out
    }

    /// The frame with the occlusion drawn over the face that `map` aligns (the map from crop pixels to
    /// frame coordinates, as `align::face_map` gives it).
    pub fn on_frame(self, frame: &Rgb, map: Affine) -> Rgb {
        let Some(to_crop) = map.inverse() else { return frame.clone() };
        // The frame pixels the template's square (and the mask below it) can reach.
        let corners = [[-16.0, -16.0], [128.0, -16.0], [-16.0, 128.0], [128.0, 128.0]].map(|[u, v]| map.apply(u, v));
        let span = |i: usize| {
            let lo = corners.iter().map(|c| c[i]).fold(f32::INFINITY, f32::min).floor().max(0.0) as usize;
            let hi = corners.iter().map(|c| c[i]).fold(f32::NEG_INFINITY, f32::max).ceil().max(0.0) as usize;
            (lo, hi)
        };
        let ((x0, x1), (y0, y1)) = (span(0), span(1));
        let mut out = frame.clone();
        for y in y0..y1.min(frame.height) {
            for x in x0..x1.min(frame.width) {
                let [u, v] = to_crop.apply(x as f32 + 0.5, y as f32 + 0.5);
                if let Some(c) = self.colour_at(u, v) {
                    out.data[(y * frame.width + x) * 3..][..3].copy_from_slice(&c);
                }
            }
        }
        out
    }
}

/// Whether (x, y) is inside the polygon (even-odd rule).
fn inside(polygon: &[[f32; 2]], x: f32, y: f32) -> bool {
    let mut inside = false;
    for (i, a) in polygon.iter().enumerate() {
        let b = polygon[(i + 1) % polygon.len()];
        if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_crop() -> Rgb {
        Rgb::new(CROP, CROP, vec![128; CROP * CROP * 3]).unwrap()
    }

    fn covered(img: &Rgb) -> usize {
        img.data.chunks_exact(3).filter(|p| p != &[128, 128, 128]).count()
    }

    #[test]
    fn the_mask_covers_nose_and_mouth_and_the_glasses_the_eyes() {
        let at = |o: Occlusion, p: [f32; 2]| o.colour_at(p[0] + 0.5, p[1] + 0.5).is_some();
        for p in &TEMPLATE[2..] {
            assert!(at(Occlusion::Mask, *p), "mask over {p:?}");
            assert!(!at(Occlusion::Sunglasses, *p));
        }
        for p in &TEMPLATE[..2] {
            assert!(at(Occlusion::Sunglasses, *p), "glasses over {p:?}");
            assert!(!at(Occlusion::Mask, *p));
        }
        // About the lower half of the crop is masked; the glasses take much less.
        let (mask, glasses) =
            (covered(&Occlusion::Mask.on_crop(&grey_crop())), covered(&Occlusion::Sunglasses.on_crop(&grey_crop())));
        assert!((4000..6500).contains(&mask), "{mask}");
        assert!((700..1400).contains(&glasses), "{glasses}");
    }

    #[test]
    fn drawn_on_a_frame_it_follows_the_alignment() {
        // A face twice the template's size at (100, 40) in a 400x300 frame.
        let map = Affine([2.0, 0.0, 100.0, 0.0, 2.0, 40.0]);
        let frame = Rgb::new(400, 300, vec![128; 400 * 300 * 3]).unwrap();
        let masked = Occlusion::Mask.on_frame(&frame, map);
        let pixel = |x: usize, y: usize| masked.pixel(x, y);
        // The nose tip at (100 + 2 * 56, 40 + 2 * 72) is masked; the eyes and the frame's corner are not.
        assert_ne!(pixel(212, 183), [128, 128, 128]);
        assert_eq!(pixel(176, 143), [128, 128, 128]);
        assert_eq!(pixel(5, 5), [128, 128, 128]);
        let area = covered(&masked);
        let crop_area = covered(&Occlusion::Mask.on_crop(&grey_crop()));
        // Four times the crop's masked area, and a little more: the mask reaches below the crop.
        let ratio = area as f32 / (4 * crop_area) as f32;
        assert!((1.0..1.3).contains(&ratio), "{area} vs 4 x {crop_area}");
    }
}
