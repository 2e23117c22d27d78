//! The face pipeline, independent of the backend: detect -> landmarks -> align -> embed.

pub mod align;
pub mod challenge;
pub mod cues;
pub mod detect;
pub mod embed;
pub mod landmarks;
pub mod live;
pub mod liveness;
pub mod occlusion;
pub mod quality;
pub mod track;

use crate::backend::{Kernels, Network, Target};
use crate::error::{Context, Error, Result};
use crate::frame::Rgb;
use crate::gallery::Template;
use crate::model::Graph;
use align::{face_map, warp, Affine, Edge, CROP, TEMPLATE, TEMPLATE_MOUTH_CENTRE};
use detect::{DetectOptions, Detection, Detector, Range};
use embed::Embedder;
use landmarks::{blazeface_four, Landmarker};
use occlusion::Occlusion;
use quality::Quality;

/// The file names of the default models.
pub const SHORT_RANGE: &str = "face_detection_short_range.tflite";
pub const FULL_RANGE: &str = "face_detection_full_range.tflite";
pub const ONET: &str = "onet.tflite";
pub const MOBILEFACENET: &str = "MobileFaceNet.tflite";

/// The points a face was aligned with.
#[derive(Debug, Clone, PartialEq)]
pub enum Landmarks {
    /// O-Net: eyes, nose tip, mouth corners.
    Five([[f32; 2]; 5]),
    /// BlazeFace: eyes, nose tip, mouth centre.
    Four([[f32; 2]; 4]),
}

impl Landmarks {
    pub fn points(&self) -> Vec<[f32; 2]> {
        match self {
            Landmarks::Five(p) => p.to_vec(),
            Landmarks::Four(p) => p.to_vec(),
        }
    }
}

/// A face found in a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    pub detection: Detection,
    pub landmarks: Landmarks,
    /// L2-normalised.
    pub embedding: Vec<f32>,
    /// How usable the face is (size, sharpness, pose, light), measured on its aligned crop.
    pub quality: Quality,
}

/// Which landmarks align the faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandmarkSource {
    Onet,
    BlazeFace,
}

impl std::str::FromStr for LandmarkSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<LandmarkSource> {
        match s {
            "onet" => Ok(LandmarkSource::Onet),
            "blazeface" => Ok(LandmarkSource::BlazeFace),
            other => Err(crate::error::unknown_choice("landmarks", other, &["onet", "blazeface"])),
        }
    }
}

/// The largest face (by box area): the one a photo of a person is about.
pub fn largest(faces: Vec<Face>) -> Option<Face> {
    let area = |f: &Face| f.detection.bbox[2] * f.detection.bbox[3];
    faces.into_iter().max_by(|a, b| area(a).total_cmp(&area(b)))
}

/// Detections scoring at least this need no confirmation by O-Net; weaker ones need O-Net's face probability
/// to reach `ONET_CONFIRMS` (MTCNN's own O-Net threshold). Measured on the shared photos (group, emotions,
/// vlado): false detections scored at most 0.64, with O-Net at most 0.45; true faces scored from 0.5, with
/// O-Net 0.92 and up.
pub const CONFIRM_BELOW: f32 = 0.8;
pub const ONET_CONFIRMS: f32 = 0.7;

/// The loaded models. O-Net is optional: without it BlazeFace's keypoints align the faces.
pub struct Pipeline {
    pub detector: Detector,
    pub landmarker: Option<Landmarker>,
    pub embedder: Embedder,
}

impl Pipeline {
    /// Builds the pipeline from model bytes (detector of the given range, optional O-Net, embedder).
    pub async fn new(
        detector: &[u8],
        range: Range,
        onet: Option<&[u8]>,
        embedder: &[u8],
        target: &Target,
    ) -> Result<Pipeline> {
        let graph = |bytes: &[u8], which: &str| Graph::from_model_file(bytes).context(format!("the {which} model"));
        let detector = Detector::new(Network::load(graph(detector, "detector")?, target).await, range)?;
        let landmarker = match onet {
            Some(bytes) => Some(Landmarker::new(Network::load(graph(bytes, "landmark")?, target).await)?),
            None => None,
        };
        let embedder = Embedder::new(Network::load(graph(embedder, "embedder")?, target).await, embedder)?;
        Ok(Pipeline { detector, landmarker, embedder })
    }

    /// Faces of a frame, by descending detection score, each aligned and embedded (all in one batch).
    pub async fn faces(&self, frame: &Rgb, options: &DetectOptions, source: LandmarkSource) -> Result<Vec<Face>> {
        let (detections, landmarks) = self.detect(frame, options, source).await?;
        let crops = landmarks.iter().map(|l| aligned_crop(frame, l)).collect::<Result<Vec<_>>>()?;
        let embeddings = self.embedder.embed(&crops).await?;
        Ok(detections
            .into_iter()
            .zip(landmarks)
            .zip(crops.iter().zip(embeddings))
            .map(|((detection, landmarks), (crop, embedding))| {
                let quality = Quality::measure(&landmarks, crop);
                Face { detection, landmarks, embedding, quality }
            })
            .collect())
    }

    /// What enrolment stores for a face found in `frame`: its embedding, and the embeddings of its aligned
    /// crop with a surgical mask and with dark glasses drawn on (see `gallery::Template`). The command-line
    /// tool and the web API both enrol through this.
    pub async fn templates(&self, frame: &Rgb, face: &Face) -> Result<Vec<(Template, Vec<f32>)>> {
        let crop = aligned_crop(frame, &face.landmarks)?;
        let occluded = [(Template::Masked, Occlusion::Mask), (Template::Sunglasses, Occlusion::Sunglasses)];
        let crops: Vec<Rgb> = occluded.iter().map(|(_, o)| o.on_crop(&crop)).collect();
        let embeddings = self.embedder.embed(&crops).await?;
        let shot = (Template::Shot, face.embedding.clone());
        Ok(std::iter::once(shot).chain(occluded.iter().map(|(t, _)| *t).zip(embeddings)).collect())
    }

    /// Detections with the landmarks to align them: O-Net's when asked for and loaded, else BlazeFace's.
    ///
    /// When O-Net is loaded it also confirms weak detections, as in MTCNN's last stage: a detection scoring
    /// below `CONFIRM_BELOW` is kept only if O-Net calls its crop a face.
    pub async fn detect(
        &self,
        frame: &Rgb,
        options: &DetectOptions,
        source: LandmarkSource,
    ) -> Result<(Vec<Detection>, Vec<Landmarks>)> {
        let detections = self.detector.detect(frame, options).await?;
        let Some(onet) = &self.landmarker else {
            let four = detections.iter().map(|d| Landmarks::Four(blazeface_four(d))).collect();
            return Ok((detections, four));
        };
        let onet_out = onet.landmarks(frame, &detections).await?;
        let confirmed =
            detections.into_iter().zip(onet_out).filter(|(d, (_, p))| d.score >= CONFIRM_BELOW || *p >= ONET_CONFIRMS);
        Ok(confirmed
            .map(|(d, (five, _))| {
                let points = match source {
                    LandmarkSource::Onet => Landmarks::Five(five),
                    LandmarkSource::BlazeFace => Landmarks::Four(blazeface_four(&d)),
                };
                (d, points)
            })
            .unzip())
    }
}

impl Pipeline {
    fn networks(&self) -> impl Iterator<Item = &Network> {
        [&self.detector.net, &self.embedder.net].into_iter().chain(self.landmarker.as_ref().map(|l| &l.net))
    }

    /// Where the networks run now: the GPU when all of them do, else the CPU (or the reference kernels).
    pub fn kernels(&self) -> Kernels {
        let all = |k: Kernels| self.networks().all(|n| n.kernels() == k);
        let any = |k: Kernels| self.networks().any(|n| n.kernels() == k);
        if all(Kernels::Gpu) {
            Kernels::Gpu
        } else if any(Kernels::Reference) {
            Kernels::Reference
        } else {
            Kernels::Cpu
        }
    }

    /// Why a network left (or never reached) the GPU, if one did.
    pub fn fallback(&self) -> Option<String> {
        self.networks().find_map(|n| n.fallback())
    }
}

/// The map from the aligned crop's pixels to the frame's, for a face's landmarks.
pub fn alignment(landmarks: &Landmarks) -> Result<Affine> {
    let map = match landmarks {
        Landmarks::Five(p) => face_map(p, &TEMPLATE),
        Landmarks::Four(p) => face_map(p, &[TEMPLATE[0], TEMPLATE[1], TEMPLATE[2], TEMPLATE_MOUTH_CENTRE]),
    };
    map.ok_or_else(|| Error::input("landmarks are degenerate: cannot align the face"))
}

/// The 112x112 crop aligned onto the ArcFace template.
pub fn aligned_crop(frame: &Rgb, landmarks: &Landmarks) -> Result<Rgb> {
    Ok(warp(frame, alignment(landmarks)?, CROP, CROP, Edge::Black))
}
