//! Landmarks: five points (eyes, nose tip, mouth corners) from MTCNN's O-Net on a 48x48 crop around each
//! detection, or BlazeFace's four usable keypoints when no O-Net is loaded.

use super::align::{warp, Affine, Edge};
use super::detect::Detection;
use crate::backend::Network;
use crate::error::{Error, Result};
use crate::frame::Rgb;
use crate::model::Tensor;

/// O-Net's input side.
const SIDE: usize = 48;

/// The O-Net crop's side over BlazeFace's box side. Measured on the shared photos (leave-one-out
/// similarity distributions), 1.0 separated people best of 1.0, 1.1, 1.25 and 1.4.
pub const CROP_SCALE: f32 = 1.0;

/// Five points in frame pixels: eye on the image's left, other eye, nose tip, mouth corners (left, right),
/// as the face appears upright.
pub type Five = [[f32; 2]; 5];

pub struct Landmarker {
    pub net: Network,
}

impl Landmarker {
    pub fn new(net: Network) -> Result<Landmarker> {
        let graph = net.graph();
        let input = &graph.tensors[graph.inputs[0]].shape;
        let outs: Vec<&[usize]> = graph.outputs.iter().map(|&o| &graph.tensors[o].shape[1..]).collect();
        if input[1..] != [SIDE, SIDE, 3] || outs != [&[2][..], &[4][..], &[10][..]] {
            return Err(Error::model(format!("landmark model takes {input:?} -> {outs:?}, expected O-Net")));
        }
        Ok(Landmarker { net })
    }

    /// Five landmarks per detection and O-Net's probability that the crop is a face; one batch.
    pub async fn landmarks(&self, frame: &Rgb, detections: &[Detection]) -> Result<Vec<(Five, f32)>> {
        if detections.is_empty() {
            return Ok(vec![]);
        }
        let maps: Vec<Affine> = detections.iter().map(crop_map).collect();
        let mut data = Vec::with_capacity(detections.len() * SIDE * SIDE * 3);
        for map in &maps {
            let crop = warp(frame, *map, SIDE, SIDE, Edge::Black);
            // O-Net came from Caffe and reads images transposed: rows are the image's columns.
            for x in 0..SIDE {
                for y in 0..SIDE {
                    let i = (y * SIDE + x) * 3;
                    data.extend(crop.data[i..i + 3].iter().map(|&v| (v as f32 - 127.5) / 128.0));
                }
            }
        }
        let out = self.net.run(&[Tensor::new(vec![detections.len(), SIDE, SIDE, 3], data)?]).await?;
        let (probs, points) = (&out[0].data, &out[2].data);
        Ok(maps
            .iter()
            .enumerate()
            .map(|(k, map)| {
                let p = &points[k * 10..][..10];
                // First the five x, then the five y, as fractions of the crop.
                let five: Five = std::array::from_fn(|i| map.apply(p[i] * SIDE as f32, p[5 + i] * SIDE as f32));
                // The softmax's second class is "face".
                (upright_order(five), probs[k * 2 + 1])
            })
            .collect())
    }
}

/// The crop map for a detection: a square around the box, rotated upright by the eyes' angle.
fn crop_map(d: &Detection) -> Affine {
    let [x, y, w, h] = d.bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let side = w.max(h) * CROP_SCALE;
    let [e0, e1] = [d.keypoints[0], d.keypoints[1]];
    let (left, right) = if e0[0] <= e1[0] { (e0, e1) } else { (e1, e0) };
    let angle = (right[1] - left[1]).atan2(right[0] - left[0]);
    let (c, s) = (angle.cos() * side / SIDE as f32, angle.sin() * side / SIDE as f32);
    let half = SIDE as f32 / 2.0;
    // crop (u, v) -> frame: centre + R * (u - half, v - half) * side / SIDE
    Affine([c, -s, cx - c * half + s * half, s, c, cy - s * half - c * half])
}

/// BlazeFace's four usable keypoints (eyes, nose tip, mouth centre), ordered like `Five`'s first points.
pub fn blazeface_four(d: &Detection) -> [[f32; 2]; 4] {
    let [e0, e1, nose, mouth] = [d.keypoints[0], d.keypoints[1], d.keypoints[2], d.keypoints[3]];
    if mirrored(e0, e1, mouth) {
        [e1, e0, nose, mouth]
    } else {
        [e0, e1, nose, mouth]
    }
}

/// Puts the eye and mouth corner on the image's left (as the face is upright) first, whatever the
/// model's order: a mirrored frame swaps them.
fn upright_order(p: Five) -> Five {
    let mouth = [(p[3][0] + p[4][0]) / 2.0, (p[3][1] + p[4][1]) / 2.0];
    if mirrored(p[0], p[1], mouth) {
        [p[1], p[0], p[2], p[4], p[3]]
    } else {
        p
    }
}

/// True when `first_eye` is on the right of the upright face: seen with the mouth below the eyes, the
/// eye-to-eye vector then points left.
fn mirrored(first_eye: [f32; 2], second_eye: [f32; 2], mouth: [f32; 2]) -> bool {
    let e = [second_eye[0] - first_eye[0], second_eye[1] - first_eye[1]];
    let mid = [(first_eye[0] + second_eye[0]) / 2.0, (first_eye[1] + second_eye[1]) / 2.0];
    let down = [mouth[0] - mid[0], mouth[1] - mid[1]];
    e[0] * down[1] - e[1] * down[0] < 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrored_faces_are_reordered() {
        let upright: Five = [[30.0, 40.0], [70.0, 40.0], [50.0, 60.0], [35.0, 80.0], [65.0, 80.0]];
        assert_eq!(upright_order(upright), upright);
        let swapped = [upright[1], upright[0], upright[2], upright[4], upright[3]];
        assert_eq!(upright_order(swapped), upright);
        // Upside down (rotated 180 degrees): the image-right eye is the face's left.
        let flipped: Five = upright.map(|p| [100.0 - p[0], 100.0 - p[1]]);
        assert_eq!(upright_order(flipped), flipped);
    }

    #[test]
    fn crop_map_centres_the_box() {
        let d = Detection {
            bbox: [100.0, 50.0, 40.0, 40.0],
            score: 1.0,
            keypoints: [[110.0, 60.0], [130.0, 60.0], [0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]],
        };
        let m = crop_map(&d);
        let c = m.apply(24.0, 24.0);
        assert!((c[0] - 120.0).abs() < 1e-4 && (c[1] - 70.0).abs() < 1e-4);
        let corner = m.apply(0.0, 0.0);
        assert!((corner[0] - (120.0 - 20.0 * CROP_SCALE)).abs() < 1e-4);
    }
}
