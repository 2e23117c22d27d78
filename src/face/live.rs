//! Live recognition on video: the pipeline driven by a `Tracker`, doing the expensive work only where it
//! changes something. The whole frame is detected on a schedule or when a face is lost; between
//! detections each face is followed by O-Net on a crop around its last position; a face is embedded only
//! when its track is new, its name not settled yet, its shot clearly better, or on a slow schedule.

use super::detect::{DetectOptions, Detection};
use super::quality::Quality;
use super::track::{Judge, Tracker};
use super::{aligned_crop, LandmarkSource, Landmarks, Pipeline, ONET_CONFIRMS};
use crate::error::Result;
use crate::frame::Rgb;

/// A face in one frame of a video, with its track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFace {
    pub track_id: u32,
    pub detection: Detection,
    pub landmarks: Landmarks,
    /// This frame's shot.
    pub quality: Quality,
    /// The track's name (from all its embeddings), or None.
    pub name: Option<String>,
    pub similarity: Option<f32>,
    /// Whether the name has held long enough to be trusted.
    pub settled: bool,
}

/// Gives the frame's embeddings to their tracks, decides the names against the gallery, and returns the
/// faces in view.
pub fn name_faces(tracker: &mut Tracker, mut shots: Vec<Shot>, judge: &Judge) -> Vec<TrackedFace> {
    for shot in &mut shots {
        if let Some(embedding) = shot.embedding.take() {
            tracker.embedded(shot.track_id, embedding, shot.quality, judge);
        }
    }
    shots
        .into_iter()
        .filter_map(|shot| {
            let t = tracker.tracks().iter().find(|t| t.id == shot.track_id)?;
            Some(TrackedFace {
                track_id: t.id,
                detection: t.detection.clone(),
                landmarks: t.landmarks.clone(),
                quality: shot.quality,
                name: t.name.clone(),
                similarity: t.similarity,
                settled: t.settled,
            })
        })
        .collect()
}

/// What one frame cost: for measuring the live loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameWork {
    /// The whole frame went through the detector.
    pub detected: bool,
    /// Faces followed by O-Net instead.
    pub followed: usize,
    /// Faces embedded.
    pub embedded: usize,
}

/// A face seen in a frame: its track, this frame's shot, and its embedding when one was wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct Shot {
    pub track_id: u32,
    pub quality: Quality,
    pub embedding: Option<Vec<f32>>,
}

impl Pipeline {
    /// One video frame through the networks: the faces in view as shots of their tracks, and what the frame
    /// cost. `name_faces` then decides the names (apart, so that no gallery is held across the awaits).
    pub async fn track(
        &self,
        tracker: &mut Tracker,
        frame: &Rgb,
        options: &DetectOptions,
        source: LandmarkSource,
    ) -> Result<(Vec<Shot>, FrameWork)> {
        let mut work = FrameWork::default();
        if tracker.needs_detection() || self.landmarker.is_none() {
            let (detections, landmarks) = self.detect(frame, options, source).await?;
            tracker.detected(detections.into_iter().zip(landmarks).collect());
            work.detected = true;
        } else {
            let found = self.follow(tracker, frame, source).await?;
            work.followed = found.len();
            tracker.followed(found);
        }
        let mut shots = vec![];
        let mut crops = vec![];
        for track in tracker.tracks().iter().filter(|t| t.seen_this_frame()) {
            let crop = aligned_crop(frame, &track.landmarks)?;
            let quality = Quality::measure(&track.landmarks, &crop);
            if tracker.wants_embedding(track, quality.score()) {
                crops.push((shots.len(), crop));
            }
            shots.push(Shot { track_id: track.id, quality, embedding: None });
        }
        let batch: Vec<Rgb> = crops.iter().map(|(_, c)| c.clone()).collect();
        let embeddings = self.embedder.embed(&batch).await?;
        work.embedded = embeddings.len();
        for ((k, _), embedding) in crops.iter().zip(embeddings) {
            shots[*k].embedding = Some(embedding);
        }
        Ok((shots, work))
    }

    /// Each track's face found again with O-Net on a crop around where it was, or None when O-Net no
    /// longer sees a face there.
    async fn follow(
        &self,
        tracker: &Tracker,
        frame: &Rgb,
        source: LandmarkSource,
    ) -> Result<Vec<(u32, Option<(Detection, Landmarks)>)>> {
        let onet = self.landmarker.as_ref().expect("followed only with O-Net");
        let last: Vec<Detection> = tracker.to_follow().map(|t| with_eyes(&t.detection, &t.landmarks)).collect();
        let found = onet.landmarks(frame, &last).await?;
        Ok(tracker
            .to_follow()
            .zip(last.iter().zip(found))
            .map(|(t, (was, (five, face)))| {
                let seen = (face >= ONET_CONFIRMS).then(|| {
                    let moved = moved_box(was, &t.landmarks.points(), &five);
                    let landmarks = match source {
                        LandmarkSource::Onet => Landmarks::Five(five),
                        LandmarkSource::BlazeFace => {
                            let mouth = [(five[3][0] + five[4][0]) / 2.0, (five[3][1] + five[4][1]) / 2.0];
                            Landmarks::Four([five[0], five[1], five[2], mouth])
                        }
                    };
                    (moved, landmarks)
                });
                (t.id, seen)
            })
            .collect())
    }
}

/// The detection with its eye keypoints set from the landmarks (O-Net's crop is turned upright by them).
fn with_eyes(d: &Detection, landmarks: &Landmarks) -> Detection {
    let p = landmarks.points();
    let mut keypoints = d.keypoints;
    keypoints[0] = p[0];
    keypoints[1] = p[1];
    Detection { keypoints, ..d.clone() }
}

/// The box moved and scaled as the landmarks moved: by the shift of their centre, and the change of the
/// eyes' distance. The keypoints move along, the eyes taken from the new landmarks.
fn moved_box(was: &Detection, before: &[[f32; 2]], after: &[[f32; 2]; 5]) -> Detection {
    let mean = |p: &[[f32; 2]]| {
        let n = p.len() as f32;
        [p.iter().map(|v| v[0]).sum::<f32>() / n, p.iter().map(|v| v[1]).sum::<f32>() / n]
    };
    // The points the two sets share: eyes and nose (BlazeFace's fourth point is the mouth's centre).
    let (b, a) = (mean(&before[..3]), mean(&after[..3]));
    let eyes = |p: &[[f32; 2]]| ((p[1][0] - p[0][0]).powi(2) + (p[1][1] - p[0][1]).powi(2)).sqrt();
    let scale = (eyes(after) / eyes(before).max(1e-3)).clamp(0.5, 2.0);
    let [x, y, w, h] = was.bbox;
    let (cx, cy) = (x + w / 2.0 + a[0] - b[0], y + h / 2.0 + a[1] - b[1]);
    let (w, h) = (w * scale, h * scale);
    let mut keypoints = was.keypoints.map(|k| [k[0] + a[0] - b[0], k[1] + a[1] - b[1]]);
    keypoints[0] = after[0];
    keypoints[1] = after[1];
    Detection { bbox: [cx - w / 2.0, cy - h / 2.0, w, h], keypoints, ..was.clone() }
}
