//! What one camera frame shows of a face for the liveness challenge (`challenge`): whether each eye is
//! closed and where the head points. As the models' package (faceplugin-face-recognition-js@0.0.1, not
//! bundled: the app gives their bytes) does it: `fr_landmark.onnx` places 68 points (iBUG's) on the face
//! box, 64x64 grey / 256; `fr_eye.onnx` judges each eye on a square of 1.6 times its corners' distance
//! about its eyelids' centre, 24x24 grey / 255; `fr_pose.onnx` (Hopenet-like: yaw, pitch and roll as 66
//! bins of 3 degrees) takes the box enlarged by a quarter on each side, 224x224, RGB with ImageNet's mean
//! and deviation. Eye crops placed from O-Net's eye centres instead disagreed between the eyes of one face
//! (on the shared photos, see the README); the 68 points' do not.

use super::align::{warp, Affine, Edge};
use super::detect::DetectOptions;
use super::liveness::softmax;
use super::{LandmarkSource, Pipeline};
use crate::backend::{Network, Target};
use crate::error::{model_err, Result};
use crate::frame::Rgb;
use crate::model::{Graph, Tensor};

/// The models' file names in the models folder.
pub const EYE: &str = "fr_eye.onnx";
pub const POSE: &str = "fr_pose.onnx";
pub const LANDMARK: &str = "fr_landmark.onnx";
/// The eye crop's side in pixels, and over the distance between the eye's corners.
const EYE_SIDE: usize = 24;
const EYE_SCALE: f32 = 1.6;
/// The landmark crop's side in pixels, and over BlazeFace's box (tighter than the package's own detector's:
/// 1.2 placed the eyes of every shared photo where the eye model agrees between the two eyes; 1.0 did not).
const LANDMARK_SIDE: usize = 64;
const LANDMARK_SCALE: f32 = 1.2;
/// The pose crop's side, and its margin around the face box on each side, over the box's side.
const POSE_SIDE: usize = 224;
const POSE_MARGIN: f32 = 0.25;
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// What a frame shows of a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cues {
    /// The probability that each eye is closed (the eye on the image's left first).
    pub eyes_closed: [f32; 2],
    /// Degrees, as the model gives them (measured on the shared photos): yaw grows as the head turns to the
    /// person's right (the face towards the image's left), pitch and roll as Hopenet's.
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

/// The landmark, eye-state and head-pose networks, loaded once.
pub struct CueModels {
    pub landmark: Network,
    pub eye: Network,
    pub pose: Network,
}

impl CueModels {
    /// Loads the three models, checking what they take and give.
    pub async fn new(landmark: &[u8], eye: &[u8], pose: &[u8], target: &Target) -> Result<CueModels> {
        let landmark = Graph::from_model_file(landmark)?;
        let (eye, pose) = (Graph::from_model_file(eye)?, Graph::from_model_file(pose)?);
        let shapes = |g: &Graph| -> (Vec<usize>, Vec<Vec<usize>>) {
            let input = g.tensors[g.inputs[0]].shape.clone();
            (input, g.outputs.iter().map(|&o| g.tensors[o].shape.clone()).collect())
        };
        let (eye_in, eye_out) = shapes(&eye);
        if eye.inputs.len() != 1 || eye_in[1..] != [EYE_SIDE, EYE_SIDE, 1] || eye_out != [vec![1, 2]] {
            return model_err(format!("an eye-state model takes a {EYE_SIDE}x{EYE_SIDE} grey image to 2 classes"));
        }
        let (pose_in, pose_out) = shapes(&pose);
        if pose.inputs.len() != 1 || pose_in[1..] != [POSE_SIDE, POSE_SIDE, 3] || pose_out != vec![vec![1, 66]; 3] {
            return model_err(format!("a head-pose model takes a {POSE_SIDE}x{POSE_SIDE} image to 3 x 66 bins"));
        }
        let (landmark_in, landmark_out) = shapes(&landmark);
        if landmark.inputs.len() != 1
            || landmark_in[1..] != [LANDMARK_SIDE, LANDMARK_SIDE, 1]
            || landmark_out != [vec![1, 136]]
        {
            return model_err(format!(
                "a landmark model takes a {LANDMARK_SIDE}x{LANDMARK_SIDE} grey image to 68 points"
            ));
        }
        Ok(CueModels {
            landmark: Network::load(landmark, target).await,
            eye: Network::load(eye, target).await,
            pose: Network::load(pose, target).await,
        })
    }

    /// How many faces `frame` holds and, when it holds one, its cues: what the challenge takes of each frame
    /// (the one rule the command line and the web API both use).
    pub async fn of_frame(
        &self,
        pipeline: &Pipeline,
        frame: &Rgb,
        options: &DetectOptions,
        source: LandmarkSource,
    ) -> Result<(usize, Option<Cues>)> {
        let (detections, _) = pipeline.detect(frame, options, source).await?;
        if detections.len() != 1 {
            return Ok((detections.len(), None));
        }
        Ok((1, Some(self.cues(frame, detections[0].bbox).await?)))
    }

    /// The cues of the face with box `bbox` (x, y, width, height) in `frame`.
    pub async fn cues(&self, frame: &Rgb, bbox: [f32; 4]) -> Result<Cues> {
        let points = self.points(frame, bbox).await?;
        let mut eyes_closed = [0.0; 2];
        // iBUG's eyes: corners 36 and 39, lids 37, 38, 40, 41; corners 42 and 45, lids 43, 44, 46, 47.
        for (closed, first) in eyes_closed.iter_mut().zip([36, 42]) {
            let lids = [first + 1, first + 2, first + 4, first + 5].map(|k| points[k]);
            let centre = [0, 1].map(|c| lids.iter().map(|p| p[c]).sum::<f32>() / 4.0);
            let side = EYE_SCALE * (points[first + 3][0] - points[first][0]).abs();
            let crop = square(frame, centre, side, EYE_SIDE);
            let grey = crop.data.chunks_exact(3).map(|p| luma(p) / 255.0).collect();
            let logits = self.eye.run(&[Tensor::new(vec![1, EYE_SIDE, EYE_SIDE, 1], grey)?]).await?;
            // Class 0 is closed.
            *closed = softmax(&logits[0].data)[0];
        }
        let crop = pose_crop(frame, bbox);
        let input = crop
            .data
            .chunks_exact(3)
            .flat_map(|p| (0..3).map(move |c| (p[c] as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]))
            .collect();
        let bins = self.pose.run(&[Tensor::new(vec![1, POSE_SIDE, POSE_SIDE, 3], input)?]).await?;
        let angle = |k: usize| {
            let p = softmax(&bins[k].data);
            p.iter().enumerate().map(|(i, v)| i as f32 * v).sum::<f32>() * 3.0 - 99.0
        };
        Ok(Cues { eyes_closed, yaw: angle(0), pitch: angle(1), roll: angle(2) })
    }

    /// The 68 points of the face in `bbox`, in frame pixels.
    pub async fn points(&self, frame: &Rgb, [x, y, w, h]: [f32; 4]) -> Result<Vec<[f32; 2]>> {
        let side = LANDMARK_SCALE * w.max(h);
        let (left, top) = (x + w / 2.0 - side / 2.0, y + h / 2.0 - side / 2.0);
        let crop = square(frame, [x + w / 2.0, y + h / 2.0], side, LANDMARK_SIDE);
        let grey = crop.data.chunks_exact(3).map(|p| luma(p) / 256.0).collect();
        let out = self.landmark.run(&[Tensor::new(vec![1, LANDMARK_SIDE, LANDMARK_SIDE, 1], grey)?]).await?;
        Ok(out[0].data.chunks_exact(2).map(|p| [left + p[0] * side, top + p[1] * side]).collect())
    }
}

/// OpenCV's grey: 0.299 R + 0.587 G + 0.114 B.
fn luma(p: &[u8]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// A `size` x `size` crop of the square of side `side` centred on `centre`.
fn square(frame: &Rgb, centre: [f32; 2], side: f32, size: usize) -> Rgb {
    let s = side.max(1.0) / size as f32;
    warp(frame, Affine([s, 0.0, centre[0] - side / 2.0, 0.0, s, centre[1] - side / 2.0]), size, size, Edge::Clamp)
}

/// The pose model's crop: the box with a margin of a quarter of its size on each side, cut at the frame's
/// edges, resized (stretched, as its package does) to `POSE_SIDE`.
fn pose_crop(frame: &Rgb, [x, y, w, h]: [f32; 4]) -> Rgb {
    let (fw, fh) = (frame.width as f32, frame.height as f32);
    let left = (x - POSE_MARGIN * w).max(0.0);
    let top = (y - POSE_MARGIN * h).max(0.0);
    let right = (x + w + POSE_MARGIN * w).min(fw);
    let bottom = (y + h + POSE_MARGIN * h).min(fh);
    let (sx, sy) = ((right - left).max(1.0) / POSE_SIDE as f32, (bottom - top).max(1.0) / POSE_SIDE as f32);
    warp(frame, Affine([sx, 0.0, left, 0.0, sy, top]), POSE_SIDE, POSE_SIDE, Edge::Clamp)
}
