//! How usable a face is for recognition, from its landmarks and its aligned crop: size (pixels between the
//! eyes), sharpness (variance of the Laplacian), pose (yaw and pitch from the landmarks), light (brightness
//! and contrast). Enrolment refuses a poor shot and says why; the limits are measured on the shared photos
//! and on degraded copies of them (`examples/quality.rs`, figures in the README).

use super::align::{CROP, TEMPLATE, TEMPLATE_MOUTH_CENTRE};
use super::Landmarks;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::Rgb;

/// The measures of one face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Pixels between the eye centres, in the frame.
    pub eye_distance: f32,
    /// Variance of the 4-neighbour Laplacian of the aligned crop's grey levels, inside the face.
    pub sharpness: f32,
    /// Head turn left or right, degrees (0 facing the camera; the sign says which way).
    pub yaw: f32,
    /// Head tilt up or down, degrees (0 level; positive: chin up).
    pub pitch: f32,
    /// Mean grey level inside the face, 0-255.
    pub brightness: f32,
    /// Standard deviation of the grey levels inside the face.
    pub contrast: f32,
}

/// Why a shot is not good enough to enrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    TooSmall,
    TooBlurred,
    TurnedAway,
    TooDark,
    TooBright,
    FlatLight,
}

impl Problem {
    /// What the person in front of the camera should do, in a few words.
    pub fn hint(self) -> &'static str {
        match self {
            Problem::TooSmall => "too small, come closer",
            Problem::TooBlurred => "too blurred, hold still",
            Problem::TurnedAway => "turn towards the camera",
            Problem::TooDark => "too dark",
            Problem::TooBright => "too bright",
            Problem::FlatLight => "too little contrast",
        }
    }

    /// A stable name for code (JavaScript, JSON).
    pub fn name(self) -> &'static str {
        match self {
            Problem::TooSmall => "tooSmall",
            Problem::TooBlurred => "tooBlurred",
            Problem::TurnedAway => "turnedAway",
            Problem::TooDark => "tooDark",
            Problem::TooBright => "tooBright",
            Problem::FlatLight => "flatLight",
        }
    }
}

/// The limits a shot must meet to be enrolled (see the README for how they were measured).
pub const MIN_EYE_DISTANCE: f32 = 30.0;
pub const MIN_SHARPNESS: f32 = 100.0;
pub const MAX_YAW: f32 = 40.0;
pub const MAX_PITCH: f32 = 30.0;
pub const MIN_BRIGHTNESS: f32 = 45.0;
pub const MAX_BRIGHTNESS: f32 = 205.0;
pub const MIN_CONTRAST: f32 = 18.0;

impl Quality {
    /// Measures a face of `frame` from its landmarks and its aligned crop.
    pub fn measure(landmarks: &Landmarks, crop: &Rgb) -> Quality {
        let points = landmarks.points();
        let (eye_distance, yaw, pitch) = pose(&points);
        let grey = grey_levels(crop);
        let (brightness, contrast) = mean_and_deviation(&face_values(&grey));
        Quality { eye_distance, sharpness: laplacian_variance(&grey), yaw, pitch, brightness, contrast }
    }

    /// What keeps this shot from being enrolled (none: a good shot), most important first.
    pub fn problems(&self) -> Vec<Problem> {
        let checks = [
            (self.eye_distance < MIN_EYE_DISTANCE, Problem::TooSmall),
            (self.yaw.abs() > MAX_YAW || self.pitch.abs() > MAX_PITCH, Problem::TurnedAway),
            (self.brightness < MIN_BRIGHTNESS, Problem::TooDark),
            (self.brightness > MAX_BRIGHTNESS, Problem::TooBright),
            (self.contrast < MIN_CONTRAST, Problem::FlatLight),
            (self.sharpness < MIN_SHARPNESS, Problem::TooBlurred),
        ];
        checks.into_iter().filter(|(bad, _)| *bad).map(|(_, p)| p).collect()
    }

    /// Enrolment's rule: a shot with any problem is refused, saying each problem's hint.
    pub fn check(&self) -> Result<()> {
        let problems = self.problems();
        if problems.is_empty() {
            return Ok(());
        }
        let hints: Vec<&str> = problems.iter().map(|p| p.hint()).collect();
        Err(Error::new(ErrorKind::PoorShot, format!("a poor shot: {}", hints.join("; "))))
    }

    /// One number from 0 (useless) to 1 (as good as it gets), to rank shots of the same face: each measure
    /// as a share of a comfortable margin above its limit, the worst one counting.
    pub fn score(&self) -> f32 {
        let share = |v: f32, limit: f32, good: f32| ((v - limit) / (good - limit)).clamp(0.0, 1.0);
        let turned = self.yaw.abs().max(self.pitch.abs());
        let light = (self.brightness - 128.0).abs();
        [
            share(self.eye_distance, MIN_EYE_DISTANCE * 0.5, MIN_EYE_DISTANCE * 2.0),
            share(self.sharpness, MIN_SHARPNESS * 0.5, MIN_SHARPNESS * 3.0),
            share(-turned, -MAX_YAW * 1.5, -5.0),
            share(-light, -(MAX_BRIGHTNESS - 128.0) * 1.2, -40.0),
            share(self.contrast, MIN_CONTRAST * 0.5, MIN_CONTRAST * 2.5),
        ]
        .into_iter()
        .fold(1.0, f32::min)
    }
}

/// Eye distance (pixels), yaw and pitch (degrees) from the landmarks: how far the nose tip sits from the
/// line between the eyes' and the mouth's midpoints, and how far along that line, against the template.
fn pose(points: &[[f32; 2]]) -> (f32, f32, f32) {
    let (eye_l, eye_r, nose) = (points[0], points[1], points[2]);
    let mouth = match points.len() {
        5 => midpoint(points[3], points[4]),
        _ => points[3],
    };
    let eyes = midpoint(eye_l, eye_r);
    let eye_distance = distance(eye_l, eye_r);
    // The face's own frame: x along the eye line, y from the eyes towards the mouth, in eye distances.
    let ex = [(eye_r[0] - eye_l[0]) / eye_distance.max(1e-6), (eye_r[1] - eye_l[1]) / eye_distance.max(1e-6)];
    let ey = [-ex[1], ex[0]];
    let along = |p: [f32; 2], axis: [f32; 2]| (p[0] - eyes[0]) * axis[0] + (p[1] - eyes[1]) * axis[1];
    let mouth_depth = along(mouth, ey).max(1e-6);
    // Sideways: the nose's offset from the eye-mouth midline, in half eye distances. A nose tip stands
    // about half an eye distance out of the face, and the eyes' distance shrinks as the head turns, so the
    // offset is about the tangent of the turn.
    let midline_x = along(mouth, ex) * along(nose, ey) / mouth_depth;
    let sideways = (along(nose, ex) - midline_x) / (0.5 * eye_distance.max(1e-6));
    // Up and down: the nose's height between eyes and mouth, against the template's.
    let template = template_nose_height();
    let height = along(nose, ey) / mouth_depth;
    let yaw = sideways.atan().to_degrees();
    let pitch = ((template - height) / template).atan().to_degrees();
    (eye_distance, yaw, pitch)
}

/// The template's nose height between the eye line and the mouth, as a share of the eyes-to-mouth distance.
fn template_nose_height() -> f32 {
    let eyes = midpoint(TEMPLATE[0], TEMPLATE[1]);
    (TEMPLATE[2][1] - eyes[1]) / (TEMPLATE_MOUTH_CENTRE[1] - eyes[1])
}

fn midpoint(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [(a[0] + b[0]) * 0.5, (a[1] + b[1]) * 0.5]
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Grey levels (BT.601 luma) of a crop.
fn grey_levels(crop: &Rgb) -> Vec<f32> {
    crop.data.chunks_exact(3).map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect()
}

/// The part of the aligned crop that is face on every aligned face: from the brows to the chin, inside the
/// cheeks (the template's eyes are at x 38 and 74, y 52; the mouth at y 92).
const FACE_X: std::ops::Range<usize> = 28..84;
const FACE_Y: std::ops::Range<usize> = 36..100;

fn face_values(grey: &[f32]) -> Vec<f32> {
    FACE_Y.flat_map(|y| FACE_X.map(move |x| grey[y * CROP + x])).collect()
}

fn mean_and_deviation(values: &[f32]) -> (f32, f32) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    (mean, variance.sqrt())
}

/// Variance of the 4-neighbour Laplacian inside the face: high where edges are crisp, low when blurred.
fn laplacian_variance(grey: &[f32]) -> f32 {
    let at = |x: usize, y: usize| grey[y * CROP + x];
    let laplacian: Vec<f32> = FACE_Y
        .flat_map(|y| FACE_X.map(move |x| (x, y)))
        .map(|(x, y)| at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y))
        .collect();
    mean_and_deviation(&laplacian).1.powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(pixel: impl Fn(usize, usize) -> u8) -> Rgb {
        let data = (0..CROP * CROP).flat_map(|i| [pixel(i % CROP, i / CROP); 3]).collect();
        Rgb::new(CROP, CROP, data).unwrap()
    }

    /// The template's points scaled by `s` about the origin: a frontal face with eyes 35 * s apart.
    fn frontal(s: f32) -> Landmarks {
        Landmarks::Five(TEMPLATE.map(|[x, y]| [x * s, y * s]))
    }

    fn checkerboard(cell: usize, low: u8, high: u8) -> Rgb {
        crop(|x, y| if (x / cell + y / cell).is_multiple_of(2) { low } else { high })
    }

    #[test]
    fn a_frontal_face_has_no_turn_and_its_eye_distance() {
        let q = Quality::measure(&frontal(2.0), &checkerboard(2, 60, 190));
        assert!((q.eye_distance - 70.47).abs() < 0.05, "{q:?}");
        assert!(q.yaw.abs() < 1.0 && q.pitch.abs() < 1.0, "{q:?}");
        assert_eq!(q.problems(), vec![]);
    }

    #[test]
    fn a_nose_off_the_midline_is_a_turned_head_either_way() {
        for (shift, sign) in [(18.0, 1.0), (-18.0, -1.0)] {
            let mut p = TEMPLATE;
            p[2][0] += shift;
            let q = Quality::measure(&Landmarks::Five(p), &checkerboard(2, 60, 190));
            assert!(q.yaw * sign > MAX_YAW, "{shift}: {q:?}");
            assert_eq!(q.problems(), vec![Problem::TurnedAway]);
        }
        // A nose high up towards the eyes: the head tilted back (chin up).
        let mut p = TEMPLATE;
        p[2][1] -= 14.0;
        let q = Quality::measure(&Landmarks::Five(p), &checkerboard(2, 60, 190));
        assert!(q.pitch > MAX_PITCH, "{q:?}");
    }

    #[test]
    fn pose_does_not_change_with_rotation_in_the_image() {
        let (sin, cos) = 0.5f32.sin_cos();
        let turned = TEMPLATE.map(|[x, y]| [cos * x - sin * y + 200.0, sin * x + cos * y]);
        let q = Quality::measure(&Landmarks::Five(turned), &checkerboard(2, 60, 190));
        let upright = Quality::measure(&frontal(1.0), &checkerboard(2, 60, 190));
        assert!((q.yaw - upright.yaw).abs() < 0.5 && (q.pitch - upright.pitch).abs() < 0.5, "{q:?} {upright:?}");
        assert!((q.eye_distance - upright.eye_distance).abs() < 0.01);
    }

    #[test]
    fn small_blurred_dark_bright_and_flat_faces_are_told_apart() {
        assert_eq!(Quality::measure(&frontal(0.5), &checkerboard(2, 60, 190)).problems(), vec![Problem::TooSmall]);
        // A smooth ramp has no edges: blurred.
        let ramp = crop(|x, _| (2 * x) as u8);
        assert_eq!(Quality::measure(&frontal(2.0), &ramp).problems(), vec![Problem::TooBlurred]);
        assert_eq!(Quality::measure(&frontal(2.0), &checkerboard(2, 0, 40)).problems(), vec![Problem::TooDark]);
        assert_eq!(Quality::measure(&frontal(2.0), &checkerboard(2, 215, 255)).problems(), vec![Problem::TooBright]);
        assert_eq!(Quality::measure(&frontal(2.0), &checkerboard(2, 115, 140)).problems(), vec![Problem::FlatLight]);
    }

    #[test]
    fn sharpness_falls_as_edges_soften_and_the_score_follows() {
        let sharp = Quality::measure(&frontal(2.0), &checkerboard(2, 60, 190));
        let softer = Quality::measure(&frontal(2.0), &checkerboard(8, 60, 190));
        assert!(sharp.sharpness > 4.0 * softer.sharpness, "{sharp:?} {softer:?}");
        assert!(sharp.score() >= softer.score());
        assert!(Quality::measure(&frontal(0.3), &checkerboard(2, 60, 190)).score() < sharp.score());
    }
}
