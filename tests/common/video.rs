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

/// Five `faces`, 200 px each, on a grey 640x480 frame (three above, two below, as people crowd in front
/// of a webcam), all drifting right and back, 3 px a frame.
pub fn five_drifting(faces: &[Rgb; 5], frames: usize) -> Vec<Rgb> {
    const SPOTS: [(usize, usize); 5] = [(5, 15), (215, 15), (425, 15), (110, 255), (320, 255)];
    let faces: Vec<Rgb> =
        faces.iter().map(|f| warp(f, Affine::scale(f.width, f.height, 200), 200, 200, Edge::Clamp)).collect();
    (0..frames)
        .map(|k| {
            let mut canvas = Rgb::new(640, 480, vec![120; 640 * 480 * 3]).unwrap();
            let p = k % 10;
            let drift = 3 * if p < 5 { p } else { 10 - p };
            for (face, (x, y0)) in faces.iter().zip(SPOTS) {
                for y in 0..200 {
                    let dst = ((y0 + y) * 640 + x + drift) * 3;
                    canvas.data[dst..dst + 600].copy_from_slice(&face.data[y * 600..(y + 1) * 600]);
                }
            }
            canvas
        })
        .collect()
}
