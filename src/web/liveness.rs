//! The recognizer's liveness checks: passive (`liveness`: the anti-spoofing model on each face) and active
//! (`startChallenge`, then `challengeFrame` on each camera frame: blink and turn the head, in random order).
//! Their models are optional downloads the app gives as bytes; they run on the CPU.

use super::panic::forced_panic_point;
use super::recognizer::Recognizer;
use super::{error, frame_of, js_error, to_js, BoxJs};
use crate::backend::Target;
use crate::error::ErrorKind;
use crate::face::challenge::{Challenge, Outcome, Rules};
use crate::face::cues::CueModels;
use crate::face::liveness::Liveness;
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Recognizer {
    /// Loads the anti-spoofing model for `liveness`: `fr_liveness.onnx`, as bytes the app provides (the
    /// package does not bundle it). It runs on the CPU: one 128x128 crop per face.
    #[wasm_bindgen(js_name = loadLiveness)]
    pub async fn load_liveness(&self, bytes: Vec<u8>) -> Result<(), JsValue> {
        forced_panic_point("Recognizer.loadLiveness");
        let model = Liveness::new(&bytes, &Target::Cpu).await.map_err(js_error)?;
        *self.liveness.borrow_mut() = Some(Rc::new(model));
        Ok(())
    }

    /// Per face: its box, the probability that it is a live person rather than a photo or a screen held to
    /// the camera (`score`), and whether that counts as live (`live`).
    pub async fn liveness(&self, source: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.liveness");
        let model = self.liveness.borrow().clone();
        let model =
            model.ok_or_else(|| error(ErrorKind::Option, "no liveness model: call loadLiveness(bytes) first"))?;
        let frame = frame_of(&source).await?;
        let (detections, _) = self.pipeline.detect(&frame, &self.options, self.landmarks).await.map_err(js_error)?;
        let verdicts = model.judge(&frame, &detections).await.map_err(js_error)?;
        let faces: Vec<LivenessJs> = verdicts
            .iter()
            .map(|v| {
                let [x, y, width, height] = v.bbox;
                LivenessJs { bbox: BoxJs { x, y, width, height }, score: v.score, live: v.live }
            })
            .collect();
        to_js(&faces)
    }

    /// Loads the models of the active challenge, as bytes the app provides: `fr_landmark.onnx` (68 points),
    /// `fr_eye.onnx` (eye state) and `fr_pose.onnx` (head pose).
    #[wasm_bindgen(js_name = loadChallenge)]
    pub async fn load_challenge(&self, landmark: Vec<u8>, eye: Vec<u8>, pose: Vec<u8>) -> Result<(), JsValue> {
        forced_panic_point("Recognizer.loadChallenge");
        let models = CueModels::new(&landmark, &eye, &pose, &Target::Cpu).await.map_err(js_error)?;
        *self.cues.borrow_mut() = Some(Rc::new(models));
        Ok(())
    }

    /// Starts a challenge (dropping any under way): its steps in random order (`options.seed`, a whole
    /// number, fixes it), `options.stepSeconds` each (default 6). Gives `{steps, stepSeconds}`.
    #[wasm_bindgen(js_name = startChallenge)]
    pub fn start_challenge(&self, options: JsValue) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.startChallenge");
        let number = |name: &str| {
            let v = if options.is_object() { js_sys::Reflect::get(&options, &name.into()).ok() } else { None };
            v.filter(|v| !v.is_undefined() && !v.is_null()).map(|v| v.as_f64().filter(|n| n.is_finite()))
        };
        let seed = match number("seed") {
            None => (js_sys::Math::random() * 2f64.powi(53)) as u64,
            Some(Some(s)) if s >= 0.0 && s.fract() == 0.0 => s as u64,
            Some(_) => return Err(error(ErrorKind::Option, "seed: a whole number from 0")),
        };
        let mut rules = Rules::default();
        match number("stepSeconds") {
            None => {}
            Some(Some(s)) if (1.0..=60.0).contains(&s) => rules.step_ms = s * 1000.0,
            Some(_) => return Err(error(ErrorKind::Option, "stepSeconds: from 1 to 60")),
        }
        let challenge = Challenge::new(seed, rules);
        let started = StartedJs {
            steps: challenge.steps.iter().map(|s| s.name()).collect(),
            step_seconds: rules.step_ms / 1000.0,
        };
        *self.challenge.borrow_mut() = Some(challenge);
        to_js(&started)
    }

    /// One camera frame of the challenge under way, seen at `timeMs` (default: now): how many faces it has,
    /// the cues of the one face (eyes closed, yaw, pitch, roll), and where the challenge stands: `state`
    /// "running" (with the `step` it waits for), "passed" or "failed" (with the `reason`).
    #[wasm_bindgen(js_name = challengeFrame)]
    pub async fn challenge_frame(&self, source: JsValue, time_ms: Option<f64>) -> Result<JsValue, JsValue> {
        forced_panic_point("Recognizer.challengeFrame");
        let models = self.cues.borrow().clone();
        let models = models.ok_or_else(|| {
            error(ErrorKind::Option, "no challenge models: call loadChallenge(landmark, eye, pose) first")
        })?;
        if self.challenge.borrow().is_none() {
            return Err(error(ErrorKind::Option, "no challenge under way: call startChallenge() first"));
        }
        let at_ms = time_ms.filter(|t| t.is_finite()).unwrap_or_else(js_sys::Date::now);
        let frame = frame_of(&source).await?;
        let (faces, cues) =
            models.of_frame(&self.pipeline, &frame, &self.options, self.landmarks).await.map_err(js_error)?;
        // A challenge started while this frame was worked on takes the frame.
        let mut slot = self.challenge.borrow_mut();
        let challenge = slot.as_mut().ok_or_else(|| error(ErrorKind::Option, "the challenge was dropped"))?;
        let outcome = challenge.observe(at_ms, faces, cues.as_ref());
        let steps: Vec<&'static str> = challenge.steps.iter().map(|s| s.name()).collect();
        let (state, step, reason) = match outcome {
            Outcome::Running { index } => ("running", Some(steps[index]), None),
            Outcome::Passed => ("passed", None, None),
            Outcome::Failed { reason } => ("failed", None, Some(reason)),
        };
        let cues = cues.map(|c| CuesJs { eyes_closed: c.eyes_closed, yaw: c.yaw, pitch: c.pitch, roll: c.roll });
        to_js(&ChallengeJs { state, step, steps, reason, faces, cues })
    }
}

/// A face's liveness as JS sees it.
#[derive(Serialize)]
struct LivenessJs {
    #[serde(rename = "box")]
    bbox: BoxJs,
    score: f32,
    live: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartedJs {
    steps: Vec<&'static str>,
    step_seconds: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CuesJs {
    eyes_closed: [f32; 2],
    yaw: f32,
    pitch: f32,
    roll: f32,
}

#[derive(Serialize)]
struct ChallengeJs {
    state: &'static str,
    step: Option<&'static str>,
    steps: Vec<&'static str>,
    reason: Option<String>,
    faces: usize,
    cues: Option<CuesJs>,
}
