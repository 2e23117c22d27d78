//! Videos made from the shared photos, for the live (tracking) tests and benchmarks: a camera panning and
//! zooming over one portrait, and five faces side by side drifting across the frame.
#![allow(dead_code)] // each user takes part of it

use localface::face::align::{warp, Affine, Edge};
use localface::frame::Rgb;

/// `frames` 640x480 frames looking at `src` through a window that pans across the middle of the picture
/// and zooms in by a fifth, as a hand-held camera would drift.
pub fn pan_and_zoom(src: &Rgb, frames: usize) -> Vec<Rgb> {
    (0..frames)
        .map(|k| {
            let t = k as f32 / frames.max(2) as f32;
            // The window: 90% of the picture's width at first, 72% at the end, moving from left to right.
            let w = src.width as f32 * (0.9 - 0.18 * t);
            let h = w * 0.75;
            let x = (src.width as f32 - w) * (0.3 + 0.4 * t);
            let y = ((src.height as f32 - h) * 0.3).max(0.0);
            let s = w / 640.0;
            warp(src, Affine([s, 0.0, x, 0.0, s, y]), 640, 480, Edge::Clamp)
        })
        .collect()
}

/// `faces` placed side by side, 150 px each, on a grey 960x480 frame, the row drifting right and back,
/// 3 px a frame.
pub fn row_drifting(faces: &[Rgb], frames: usize) -> Vec<Rgb> {
    (0..frames)
        .map(|k| {
            let mut canvas = Rgb::new(960, 480, vec![120; 960 * 480 * 3]).unwrap();
            for (i, face) in faces.iter().enumerate() {
                let face = warp(face, Affine::scale(face.width, face.height, 150), 150, 150, Edge::Clamp);
                let p = k % 40;
                let drift = 3 * if p < 20 { p } else { 40 - p };
                let (x0, y0) = (20 + i * 180 + drift, 160);
                for y in 0..150 {
                    let dst = ((y0 + y) * 960 + x0) * 3;
                    canvas.data[dst..dst + 450].copy_from_slice(&face.data[y * 450..(y + 1) * 450]);
                }
            }
            canvas
        })
        .collect()
}
