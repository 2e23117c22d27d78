//! Passive liveness: whether a face is a live person or a presentation attack (a photo or a screen held to
//! the camera), from the anti-spoofing model `fr_liveness.onnx` (a MiniFASNet-like network with
//! squeeze-and-excitation, 3 classes, class 0 live) on the crop its training expects: the face box enlarged
//! 2.7 times about its centre (less where the image is smaller), moved back inside the image, resized to
//! 128x128, BGR, raw 0-255 values. Its package's JavaScript feeds it RGB, which it does not separate; BGR
//! does (measured on `../shared/data/spoof`, see the README).

use super::align::{warp, Affine, Edge};
use super::detect::Detection;
use crate::backend::{Network, Target};
use crate::error::{model_err, Result};
use crate::frame::Rgb;
use crate::model::{Graph, Tensor};

/// The model's file name in the models folder.
pub const LIVENESS: &str = "fr_liveness.onnx";
/// The crop's side, in pixels.
const SIDE: usize = 128;
/// The crop against the face box, as the model's training crops (Silent-Face-Anti-Spoofing's "2.7" ones).
const SCALE: f32 = 2.7;
/// The probability of the live class from which a face counts as live.
const THRESHOLD: f32 = 0.5;

/// A face's liveness: its box (x, y, width, height), the probability that it is a live person, and whether
/// that counts as live.
pub struct Verdict {
    pub bbox: [f32; 4],
    pub score: f32,
    pub live: bool,
}

/// The anti-spoofing network, loaded once.
pub struct Liveness {
    pub net: Network,
}

impl Liveness {
    /// Loads the model, checking that it takes one 128x128 image and gives 3 classes.
    pub async fn new(bytes: &[u8], target: &Target) -> Result<Liveness> {
        let graph = Graph::from_onnx(bytes)?;
        let input = &graph.tensors[graph.inputs[0]].shape;
        if graph.inputs.len() != 1 || input.get(1..) != Some(&[SIDE, SIDE, 3][..]) {
            return model_err(format!("a liveness model takes one {SIDE}x{SIDE} image, not {input:?}"));
        }
        let output = &graph.tensors[graph.outputs[0]].shape;
        if graph.outputs.len() != 1 || output[..] != [1, 3] {
            return model_err(format!("a liveness model gives 3 classes, not {output:?}"));
        }
        Ok(Liveness { net: Network::load(graph, target).await })
    }

    /// The verdict on each detected face of `frame` (the one rule the command line and the web API both use).
    pub async fn judge(&self, frame: &Rgb, detections: &[Detection]) -> Result<Vec<Verdict>> {
        let mut verdicts = Vec::with_capacity(detections.len());
        for d in detections {
            let score = self.score(frame, d.bbox).await?;
            verdicts.push(Verdict { bbox: d.bbox, score, live: score >= THRESHOLD });
        }
        Ok(verdicts)
    }

    /// The probability that the face in `bbox` (x, y, width, height) of `frame` is live.
    pub async fn score(&self, frame: &Rgb, bbox: [f32; 4]) -> Result<f32> {
        let crop = crop(frame, bbox);
        // BGR, raw values.
        let data = crop.data.chunks_exact(3).flat_map(|p| [p[2] as f32, p[1] as f32, p[0] as f32]).collect();
        let logits = self.net.run(&[Tensor::new(vec![1, SIDE, SIDE, 3], data)?]).await?.remove(0).data;
        Ok(softmax(&logits)[0])
    }
}

/// The model's crop of a face: the box enlarged `SCALE` times about its centre (at most as large as the
/// image allows), moved back inside the image, resized to `SIDE` x `SIDE`.
pub fn crop(frame: &Rgb, [x, y, w, h]: [f32; 4]) -> Rgb {
    let (fw, fh) = (frame.width as f32, frame.height as f32);
    let scale = SCALE.min((fh - 1.0) / h.max(1.0)).min((fw - 1.0) / w.max(1.0)).max(0.0);
    let (cw, ch) = (w * scale, h * scale);
    let left = (x + w / 2.0 - cw / 2.0).clamp(0.0, (fw - 1.0 - cw).max(0.0));
    let top = (y + h / 2.0 - ch / 2.0).clamp(0.0, (fh - 1.0 - ch).max(0.0));
    let (sx, sy) = (cw / SIDE as f32, ch / SIDE as f32);
    warp(frame, Affine([sx, 0.0, left, 0.0, sy, top]), SIDE, SIDE, Edge::Clamp)
}

pub(crate) fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crop_is_the_box_enlarged_and_kept_inside() {
        // A 640x480 frame whose pixel (x, y) is (x / 4, y / 2, 0): the crop's corners tell where it read.
        let data = (0..480).flat_map(|y| (0..640).flat_map(move |x| [(x / 4) as u8, (y / 2) as u8, 0])).collect();
        let frame = Rgb::new(640, 480, data).unwrap();
        // A 100-pixel box at (300, 200): 270 pixels about its centre (350, 250), from (215, 115).
        let c = crop(&frame, [300.0, 200.0, 100.0, 100.0]);
        assert_eq!((c.width, c.height), (SIDE, SIDE));
        let first = c.pixel(0, 0);
        assert!((first[0] as i32 - 215 / 4).abs() <= 1 && (first[1] as i32 - 115 / 2).abs() <= 1, "{first:?}");
        // A box at the left edge: the crop moves right to stay inside.
        let c = crop(&frame, [0.0, 200.0, 100.0, 100.0]);
        assert!(c.pixel(0, 0)[0] <= 1, "{:?}", c.pixel(0, 0));
        // A box as tall as the frame: the enlargement shrinks to what fits.
        let c = crop(&frame, [200.0, 0.0, 300.0, 470.0]);
        assert!(c.pixel(0, SIDE - 1)[1] >= 235, "{:?}", c.pixel(0, SIDE - 1));
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        let p = softmax(&[2.0, 1.0, -1.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[0] > p[1] && p[1] > p[2]);
    }
}
