//! `challenge FRAME...`: the active liveness challenge over frames given as images, in order, as a camera
//! would give them at `--fps`.

use super::{detect_options, files, load_pipeline, read_model, report_fallback, rounded, Args};
use localface::backend::{block_on, Target};
use localface::face::challenge::{Challenge, Outcome, Rules};
use localface::face::cues::{CueModels, EYE, LANDMARK, POSE};
use localface::frame;
use localface::Result;
use serde_json::json;

/// One line per frame (its faces, cues and the step it waits for), then the outcome; succeeds (exit 0)
/// whether the challenge passes or not: the outcome is the answer.
pub(super) fn challenge(args: &Args, target: &Target) -> Result<bool> {
    let frames = files::expand(&args.positional)?;
    if frames.is_empty() {
        return Err(super::usage("challenge: missing frames"));
    }
    let p = load_pipeline(args, target)?;
    let (landmark, eye, pose) = (read_model(args, LANDMARK)?, read_model(args, EYE)?, read_model(args, POSE)?);
    let models = block_on(CueModels::new(&landmark, &eye, &pose, target))?;
    let opts = detect_options(&p, args);
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    let mut challenge = Challenge::new(seed, Rules::default());
    let steps: Vec<&str> = challenge.steps.iter().map(|s| s.name()).collect();
    let mut outcome = Outcome::Running { index: 0 };
    for (k, path) in frames.iter().enumerate() {
        let at_ms = k as f64 * 1000.0 / args.fps;
        let (faces, cues) = block_on(models.of_frame(&p, &frame::load(path)?, &opts, args.landmarks))?;
        outcome = challenge.observe(at_ms, faces, cues.as_ref());
        let step = match outcome {
            Outcome::Running { index } => Some(steps[index]),
            _ => None,
        };
        let cues = cues.map(|c| {
            json!({ "eyesClosed": c.eyes_closed.map(|v| rounded(v, 3)), "yaw": rounded(c.yaw, 1),
                    "pitch": rounded(c.pitch, 1), "roll": rounded(c.roll, 1) })
        });
        println!(
            "{}",
            json!({ "frame": path.display().to_string(), "ms": at_ms, "faces": faces, "cues": cues, "step": step })
        );
        if !matches!(outcome, Outcome::Running { .. }) {
            break;
        }
    }
    let (passed, reason) = match outcome {
        Outcome::Passed => (true, None),
        Outcome::Failed { reason } => (false, Some(reason)),
        Outcome::Running { index } => (false, Some(format!("the frames ended before the step '{}'", steps[index]))),
    };
    println!("{}", json!({ "steps": steps, "passed": passed, "reason": reason }));
    report_fallback(models.pose.fallback(), target);
    Ok(true)
}
