//! Tracking for live video: each face keeps a track id while it stays in view, and a name that comes from
//! all its embeddings so far, so that one blurred frame cannot change it.
//!
//! The tracker is the bookkeeping only, with no network in it (`face::live` runs the networks): it says
//! when the whole frame needs detecting, matches detections to tracks, takes the boxes that following a
//! face between detections gives, says which tracks need an embedding, and decides each track's name.

use super::detect::Detection;
use super::quality::Quality;
use super::Landmarks;
use crate::gallery::{Gallery, Metric};

/// When to detect and embed, and how names settle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Detect the whole frame every this many frames (between them, faces are followed).
    pub detect_every: u32,
    /// A track not seen for this many frames in a row is dropped.
    pub max_misses: u32,
    /// A detection joins the track whose predicted box it overlaps most, if at least this much (IoU).
    pub min_overlap: f32,
    /// Re-embed a settled track every this many frames, to notice a different person taking its place.
    pub reembed_every: u32,
    /// A new shot is embedded when its quality score beats the track's best by this much.
    pub better_by: f32,
    /// The embeddings averaged into a track's identity: its best ones, by quality.
    pub samples: usize,
    /// A track's name changes only when another person beats it by this much similarity, and is dropped
    /// only when it falls this far under the threshold.
    pub margin: f32,
    /// A name is settled once this many embeddings in a row have agreed on it.
    pub settle_after: u32,
}

impl Default for TrackerConfig {
    fn default() -> TrackerConfig {
        TrackerConfig {
            detect_every: 10,
            max_misses: 15,
            min_overlap: 0.3,
            reembed_every: 30,
            better_by: 0.1,
            samples: 5,
            margin: 0.05,
            settle_after: 3,
        }
    }
}

/// One embedding of a track, with the quality of its shot.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    embedding: Vec<f32>,
    quality: f32,
}

/// A face followed from frame to frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub id: u32,
    pub detection: Detection,
    pub landmarks: Landmarks,
    /// The quality of the latest embedded shot.
    pub quality: Option<Quality>,
    /// The enrolled person, or None (a stranger, or not known yet).
    pub name: Option<String>,
    /// The similarity of the track's embeddings to `name` (or to the closest person when `name` is None).
    pub similarity: Option<f32>,
    /// Whether the name has held for `settle_after` embeddings in a row.
    pub settled: bool,
    /// Frames since the track began.
    pub age: u32,
    /// Box centre movement per frame (x, y), for predicting where the face is next.
    velocity: [f32; 2],
    misses: u32,
    since_embedding: u32,
    samples: Vec<Sample>,
    agreeing: u32,
}

impl Track {
    fn new(id: u32, detection: Detection, landmarks: Landmarks) -> Track {
        Track {
            id,
            detection,
            landmarks,
            quality: None,
            name: None,
            similarity: None,
            settled: false,
            age: 0,
            velocity: [0.0; 2],
            misses: 0,
            since_embedding: 0,
            samples: vec![],
            agreeing: 0,
        }
    }

    /// Where the box should be this frame, from its last position and speed.
    fn predicted(&self) -> [f32; 4] {
        let [x, y, w, h] = self.detection.bbox;
        let k = (self.misses + 1) as f32;
        [x + self.velocity[0] * k, y + self.velocity[1] * k, w, h]
    }

    /// Moves the track to where it was seen this frame.
    fn seen(&mut self, detection: Detection, landmarks: Landmarks) {
        let (old, new) = (centre(self.detection.bbox), centre(detection.bbox));
        let steps = (self.misses + 1) as f32;
        let moved = [(new[0] - old[0]) / steps, (new[1] - old[1]) / steps];
        // Smoothed, so one jittery box does not throw the prediction off.
        self.velocity = [0.5 * self.velocity[0] + 0.5 * moved[0], 0.5 * self.velocity[1] + 0.5 * moved[1]];
        self.detection = detection;
        self.landmarks = landmarks;
        self.misses = 0;
    }

    /// Whether the face was found in the latest frame.
    pub fn seen_this_frame(&self) -> bool {
        self.misses == 0
    }

    fn best_quality(&self) -> f32 {
        self.samples.iter().map(|s| s.quality).fold(f32::NEG_INFINITY, f32::max)
    }
}

/// The tracks of one video.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    pub config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u32,
    frames: u64,
    lost_one: bool,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Tracker {
        Tracker { config, next_id: 1, ..Tracker::default() }
    }

    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Makes every track decide its name again at its next embedding (the gallery changed).
    pub fn forget_names(&mut self) {
        for t in &mut self.tracks {
            t.settled = false;
            t.agreeing = 0;
        }
    }

    /// Whether this frame needs the whole-frame detector: on schedule, when there is nothing to follow, or
    /// when a face was lost (it may have moved too fast to follow, or a new one may have come).
    pub fn needs_detection(&self) -> bool {
        self.tracks.is_empty() || self.lost_one || self.frames.is_multiple_of(self.config.detect_every.max(1) as u64)
    }

    /// A frame's detections (by descending score, with their landmarks): each joins the track it overlaps
    /// most, the others start tracks, and tracks not seen age towards removal.
    pub fn detected(&mut self, faces: Vec<(Detection, Landmarks)>) {
        // Best overlaps first, each detection and track used once.
        let mut pairs: Vec<(usize, usize, f32)> = faces
            .iter()
            .enumerate()
            .flat_map(|(d, (det, _))| {
                self.tracks.iter().enumerate().map(move |(t, tr)| (d, t, iou(tr.predicted(), det.bbox)))
            })
            .filter(|&(_, _, overlap)| overlap >= self.config.min_overlap)
            .collect();
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2));
        let (mut track_of, mut taken) = (vec![None; faces.len()], vec![false; self.tracks.len()]);
        for (d, t, _) in pairs {
            if track_of[d].is_none() && !taken[t] {
                track_of[d] = Some(t);
                taken[t] = true;
            }
        }
        for (t, track) in self.tracks.iter_mut().enumerate() {
            if !taken[t] {
                track.misses += 1;
            }
        }
        for ((detection, landmarks), t) in faces.into_iter().zip(track_of) {
            match t {
                Some(t) => self.tracks[t].seen(detection, landmarks),
                None => {
                    self.tracks.push(Track::new(self.next_id, detection, landmarks));
                    self.next_id += 1;
                }
            }
        }
        self.lost_one = false;
        self.end_frame();
    }

    /// A frame where the tracks were followed instead of detected: each track's new box and landmarks, or
    /// None where the face was not found again (then the next frame is detected).
    /// Only the tracks seen in the frame before are followed (`to_follow`); the others wait for the next
    /// detection to find them again.
    pub fn followed(&mut self, found: Vec<(u32, Option<(Detection, Landmarks)>)>) {
        let mut followed = vec![false; self.tracks.len()];
        for (id, seen) in found {
            let Some(k) = self.tracks.iter().position(|t| t.id == id) else { continue };
            followed[k] = true;
            match seen {
                Some((detection, landmarks)) => self.tracks[k].seen(detection, landmarks),
                None => {
                    self.tracks[k].misses += 1;
                    self.lost_one = true;
                }
            }
        }
        for (track, followed) in self.tracks.iter_mut().zip(followed) {
            if !followed {
                track.misses += 1;
            }
        }
        self.merge_duplicates();
        self.end_frame();
    }

    /// The tracks to follow this frame: those seen in the frame before.
    pub fn to_follow(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(|t| t.misses == 0)
    }

    /// Two followed tracks that have come onto one face (their boxes overlap by more than half): the
    /// younger one is not seen this frame, so it ends unless a detection finds it apart again.
    fn merge_duplicates(&mut self) {
        for i in 0..self.tracks.len() {
            for j in 0..self.tracks.len() {
                let (a, b) = (&self.tracks[i], &self.tracks[j]);
                let both_seen = a.misses == 0 && b.misses == 0;
                if i != j && both_seen && a.id < b.id && iou(a.detection.bbox, b.detection.bbox) > 0.5 {
                    self.tracks[j].misses = 1;
                }
            }
        }
    }

    fn end_frame(&mut self) {
        let max_misses = self.config.max_misses;
        self.tracks.retain(|t| t.misses <= max_misses);
        for t in &mut self.tracks {
            t.age += 1;
            t.since_embedding += 1;
        }
        self.frames += 1;
    }

    /// Whether a track seen this frame needs an embedding of this frame's shot (of quality score
    /// `shot_quality`): a new track, one whose name is not settled, one whose shot is clearly better than its
    /// best so far, and a settled one on schedule.
    pub fn wants_embedding(&self, track: &Track, shot_quality: f32) -> bool {
        track.misses == 0
            && (track.samples.is_empty()
                || !track.settled
                || shot_quality > track.best_quality() + self.config.better_by
                || track.since_embedding >= self.config.reembed_every)
    }

    /// Adds an embedding to a track and decides its name again against the gallery.
    pub fn embedded(&mut self, id: u32, embedding: Vec<f32>, quality: Quality, who: &Judge) {
        let config = self.config;
        let Some(track) = self.tracks.iter_mut().find(|t| t.id == id) else { return };
        // Keep the best shots, the newest first among equals (the sort is stable), so a blurred frame weighs
        // little or nothing and a face that changes is followed.
        track.samples.insert(0, Sample { embedding, quality: quality.score() });
        track.samples.sort_by(|a, b| b.quality.total_cmp(&a.quality));
        track.samples.truncate(config.samples);
        track.quality = Some(quality);
        track.since_embedding = 0;
        let mean = mean_embedding(&track.samples);
        decide(track, &mean, who, &config);
    }
}

/// What a track's name is decided against: the gallery and its rule.
pub struct Judge<'a> {
    pub gallery: &'a Gallery,
    pub metric: Metric,
    pub threshold: f32,
}

/// The track's name from its mean embedding, with hysteresis: another person must beat the current one by
/// `margin`, and the current one is dropped only `margin` under the threshold.
fn decide(track: &mut Track, mean: &[f32], who: &Judge, config: &TrackerConfig) {
    let candidates = who.gallery.search(mean, who.gallery.names().len().max(1), who.metric);
    let score_of = |name: &str| candidates.iter().find(|m| m.name == name).map(|m| m.score);
    // A higher score is better for cosine similarity; lower for Euclidean distance.
    let better = |a: f32, b: f32, by: f32| match who.metric {
        Metric::Cosine => a > b + by,
        Metric::Euclidean => a < b - by,
    };
    let best = candidates.first();
    let next = match (&track.name, best) {
        (_, None) => None,
        (Some(current), Some(top)) if &top.name != current => match score_of(current) {
            Some(kept) if !better(top.score, kept, config.margin) => keep_or_drop(current, kept, who, config),
            _ => who.metric.accepts(top.score, who.threshold).then(|| top.name.clone()),
        },
        (Some(current), Some(top)) => keep_or_drop(current, top.score, who, config),
        (None, Some(top)) => who.metric.accepts(top.score, who.threshold).then(|| top.name.clone()),
    };
    track.agreeing = if next == track.name { track.agreeing + 1 } else { 1 };
    track.similarity = match &next {
        Some(name) => score_of(name),
        None => best.map(|m| m.score),
    };
    track.name = next;
    track.settled = track.agreeing >= config.settle_after;
}

/// The current name, unless its score has fallen `margin` beyond the threshold.
fn keep_or_drop(current: &str, score: f32, who: &Judge, config: &TrackerConfig) -> Option<String> {
    let loosened = match who.metric {
        Metric::Cosine => who.threshold - config.margin,
        Metric::Euclidean => who.threshold + config.margin,
    };
    who.metric.accepts(score, loosened).then(|| current.to_string())
}

/// The L2-normalised mean of the samples, weighted by their quality (every sample counts a little).
fn mean_embedding(samples: &[Sample]) -> Vec<f32> {
    let dim = samples.first().map_or(0, |s| s.embedding.len());
    let mut mean = vec![0.0f32; dim];
    for s in samples {
        let weight = 0.1 + s.quality.max(0.0);
        mean.iter_mut().zip(&s.embedding).for_each(|(m, v)| *m += weight * v);
    }
    super::embed::l2_normalize(&mut mean);
    mean
}

fn centre(b: [f32; 4]) -> [f32; 2] {
    [b[0] + b[2] / 2.0, b[1] + b[3] / 2.0]
}

/// Intersection over union of two boxes (x, y, width, height).
pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if w <= 0.0 || h <= 0.0 {
        return 0.0;
    }
    let inter = w * h;
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::quality::Quality;

    fn face(x: f32, y: f32) -> (Detection, Landmarks) {
        let detection = Detection { bbox: [x, y, 60.0, 60.0], score: 0.9, keypoints: [[x + 20.0, y + 25.0]; 6] };
        let five = [
            [x + 18.0, y + 25.0],
            [x + 42.0, y + 25.0],
            [x + 30.0, y + 38.0],
            [x + 21.0, y + 48.0],
            [x + 39.0, y + 48.0],
        ];
        (detection, Landmarks::Five(five))
    }

    fn ids(t: &Tracker) -> Vec<(u32, f32)> {
        t.tracks().iter().filter(|t| t.seen_this_frame()).map(|t| (t.id, t.detection.bbox[0])).collect()
    }

    fn shot(score_like: f32) -> Quality {
        // A frontal face whose sharpness sets the score: 300 is a good shot, 60 a blurred one.
        Quality { eye_distance: 60.0, sharpness: score_like, yaw: 0.0, pitch: 0.0, brightness: 128.0, contrast: 45.0 }
    }

    fn unit(i: usize, dim: usize) -> Vec<f32> {
        (0..dim).map(|k| if k == i { 1.0 } else { 0.0 }).collect()
    }

    /// Between `a` and `b`, nearer `a`: cosine `c` to `a`.
    fn towards(a: usize, b: usize, c: f32, dim: usize) -> Vec<f32> {
        let mut v = unit(a, dim);
        v[b] = (1.0 - c * c).sqrt();
        v[a] = c;
        v
    }

    #[test]
    fn a_face_keeps_its_id_and_gets_a_new_one_when_it_comes_back_late() {
        let mut t = Tracker::new(TrackerConfig { max_misses: 3, ..TrackerConfig::default() });
        for k in 0..5 {
            t.detected(vec![face(100.0 + 5.0 * k as f32, 50.0)]);
            assert_eq!(ids(&t)[0].0, 1, "frame {k}");
        }
        // Out of view for two frames, back where it went: the same track.
        t.detected(vec![]);
        t.detected(vec![]);
        t.detected(vec![face(135.0, 50.0)]);
        assert_eq!(ids(&t), vec![(1, 135.0)]);
        // Out of view longer than max_misses: the track ends; coming back starts a new one.
        for _ in 0..4 {
            t.detected(vec![]);
        }
        assert!(t.tracks().is_empty());
        t.detected(vec![face(135.0, 50.0)]);
        assert_eq!(ids(&t), vec![(2, 135.0)]);
    }

    #[test]
    fn two_faces_crossing_keep_their_ids() {
        let mut t = Tracker::new(TrackerConfig::default());
        // A moves right, B moves left, 8 px a frame; they pass each other at frame 12-13.
        for k in 0..26 {
            let (a, b) = (100.0 + 8.0 * k as f32, 300.0 - 8.0 * k as f32);
            // Detections come by score, not by track: swap their order every frame.
            let faces =
                if k % 2 == 0 { vec![face(a, 50.0), face(b, 52.0)] } else { vec![face(b, 52.0), face(a, 50.0)] };
            t.detected(faces);
            let by_id = ids(&t);
            assert_eq!(by_id.len(), 2, "frame {k}");
            let x_of = |id: u32| by_id.iter().find(|(i, _)| *i == id).unwrap().1;
            assert_eq!((x_of(1), x_of(2)), (a, b), "frame {k}: ids swapped");
        }
    }

    #[test]
    fn a_lost_face_and_the_schedule_ask_for_detection() {
        let mut t = Tracker::new(TrackerConfig { detect_every: 3, ..TrackerConfig::default() });
        assert!(t.needs_detection(), "nothing to follow");
        t.detected(vec![face(100.0, 50.0)]);
        assert!(!t.needs_detection());
        t.followed(vec![(1, Some(face(102.0, 50.0)))]);
        assert!(!t.needs_detection());
        t.followed(vec![(1, Some(face(104.0, 50.0)))]);
        assert!(t.needs_detection(), "every third frame");
        t.detected(vec![face(106.0, 50.0)]);
        t.followed(vec![(1, None)]);
        assert!(t.needs_detection(), "a face was lost");
        assert!(!t.tracks()[0].seen_this_frame());
    }

    #[test]
    fn a_lost_track_is_not_followed_and_two_tracks_on_one_face_become_one() {
        let mut t = Tracker::new(TrackerConfig::default());
        t.detected(vec![face(100.0, 50.0), face(300.0, 50.0)]);
        // Track 2's face is gone at a detection: it is not followed on the next frames.
        t.detected(vec![face(102.0, 50.0)]);
        assert_eq!(t.to_follow().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
        t.followed(vec![(1, Some(face(104.0, 50.0)))]);
        assert_eq!(ids(&t), vec![(1, 104.0)]);
        // A new face is found beside track 1, then following brings both onto one face: the newer ends.
        t.detected(vec![face(106.0, 50.0), face(170.0, 50.0)]);
        let new = ids(&t).iter().map(|&(id, _)| id).max().unwrap();
        t.followed(vec![(1, Some(face(108.0, 50.0))), (new, Some(face(110.0, 50.0)))]);
        assert_eq!(ids(&t), vec![(1, 108.0)]);
    }

    #[test]
    fn a_name_settles_and_one_blurred_frame_does_not_change_it() {
        let mut g = Gallery::new(4, "MobileFaceNet");
        g.add("ada", &unit(0, 4)).unwrap();
        g.add("bob", &unit(1, 4)).unwrap();
        let judge = Judge { gallery: &g, metric: Metric::Cosine, threshold: 0.5 };
        let mut t = Tracker::new(TrackerConfig::default());
        t.detected(vec![face(100.0, 50.0)]);
        for k in 0..3 {
            assert!(t.wants_embedding(&t.tracks()[0], shot(300.0).score()), "unsettled: embed ({k})");
            t.embedded(1, towards(0, 2, 0.8, 4), shot(300.0), &judge);
            assert_eq!(t.tracks()[0].name.as_deref(), Some("ada"));
        }
        let track = &t.tracks()[0];
        assert!(track.settled);
        assert!(!t.wants_embedding(track, shot(300.0).score()), "settled: no need");
        // A blurred frame that looks like Bob: it weighs little, and Bob must beat Ada by the margin.
        t.embedded(1, towards(1, 0, 0.9, 4), shot(60.0), &judge);
        assert_eq!(t.tracks()[0].name.as_deref(), Some("ada"));
        assert!(t.tracks()[0].settled);
    }

    #[test]
    fn a_stranger_stays_unnamed_and_a_name_needs_a_margin_to_change() {
        let mut g = Gallery::new(4, "MobileFaceNet");
        g.add("ada", &unit(0, 4)).unwrap();
        g.add("bob", &unit(1, 4)).unwrap();
        let judge = Judge { gallery: &g, metric: Metric::Cosine, threshold: 0.5 };
        let mut t = Tracker::new(TrackerConfig::default());
        t.detected(vec![face(100.0, 50.0), face(300.0, 50.0)]);
        for _ in 0..3 {
            t.embedded(1, unit(3, 4), shot(300.0), &judge);
        }
        assert_eq!((t.tracks()[0].name.as_deref(), t.tracks()[0].settled), (None, true), "a stranger");
        // Track 2 looks a little more like Ada than Bob, then a little more like Bob (by less than the
        // margin): no flicker. Then clearly like Bob: the name follows.
        let mut names = vec![];
        for k in 0..8 {
            let v = if k < 3 { towards(0, 1, 0.74, 4) } else { towards(1, 0, 0.72, 4) };
            t.embedded(2, v, shot(300.0), &judge);
            names.push(t.tracks()[1].name.clone());
        }
        assert!(names.iter().all(|n| n.as_deref() == Some("ada")), "{names:?}");
        for _ in 0..5 {
            t.embedded(2, towards(1, 0, 0.95, 4), shot(300.0), &judge);
        }
        assert_eq!(t.tracks()[1].name.as_deref(), Some("bob"));
    }

    #[test]
    fn overlap_of_boxes() {
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 10.0, 10.0]), 0.0);
        assert!((iou([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0]) - 1.0 / 3.0).abs() < 1e-6);
    }
}
