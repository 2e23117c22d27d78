//! Active liveness: a short challenge over camera frames, its steps in random order (blink; turn the head
//! to its left; turn it to its right), each to be done within a time limit while one face stays in view. A
//! photo or a screen held still does none of them and fails; a video of the person doing them passes (what
//! this cannot stop, the README says). What each frame shows comes from `cues`.

use super::cues::Cues;

/// What the person is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Blink,
    /// Turn the head to the person's own left (the face turns to the image's right, unmirrored).
    TurnLeft,
    /// Turn it to the person's right.
    TurnRight,
}

impl Step {
    /// The name JavaScript and the command line see.
    pub fn name(self) -> &'static str {
        match self {
            Step::Blink => "blink",
            Step::TurnLeft => "turnLeft",
            Step::TurnRight => "turnRight",
        }
    }

    fn undone(self, seconds: f64) -> String {
        match self {
            Step::Blink => format!("no blink within {seconds} s"),
            Step::TurnLeft => format!("the head did not turn left within {seconds} s"),
            Step::TurnRight => format!("the head did not turn right within {seconds} s"),
        }
    }
}

/// Where the challenge stands after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Waiting for step `index` of the list.
    Running {
        index: usize,
    },
    Passed,
    Failed {
        reason: String,
    },
}

/// The limits of a challenge.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Time allowed for each step, in milliseconds.
    pub step_ms: f64,
    /// How long the face may be missing (or another face present) before the challenge fails.
    pub missing_ms: f64,
    /// Both eyes' probability of being closed above which they count as closed, and below which as open.
    pub closed: f32,
    pub open: f32,
    /// How far the head must swing, in degrees of yaw, within a turn's step: from wherever it was (people
    /// do not start exactly frontal) to that much further in the asked direction.
    pub turn_degrees: f32,
}

impl Default for Rules {
    fn default() -> Rules {
        // Measured on the shared photos (see the README).
        Rules { step_ms: 6000.0, missing_ms: 1500.0, closed: 0.7, open: 0.3, turn_degrees: 20.0 }
    }
}

/// How far a blink has come: open eyes seen, then closed ones (then open again ends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blink {
    WaitingOpen,
    Open,
    Closed,
}

/// A challenge under way.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub steps: Vec<Step>,
    pub rules: Rules,
    index: usize,
    step_since: Option<f64>,
    missing_since: Option<f64>,
    blink: Blink,
    /// The lowest and highest yaw seen during this step.
    yaw_range: Option<[f32; 2]>,
    done: Option<Outcome>,
}

impl Challenge {
    /// A challenge of the three steps in an order drawn from `seed`.
    pub fn new(seed: u64, rules: Rules) -> Challenge {
        let mut steps = vec![Step::Blink, Step::TurnLeft, Step::TurnRight];
        // Fisher-Yates with splitmix64: the order only has to be unknown to whoever holds a photo up.
        let mut state = seed;
        for i in (1..steps.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            steps.swap(i, ((z ^ (z >> 31)) % (i as u64 + 1)) as usize);
        }
        Challenge {
            steps,
            rules,
            index: 0,
            step_since: None,
            missing_since: None,
            blink: Blink::WaitingOpen,
            yaw_range: None,
            done: None,
        }
    }

    /// Takes a frame seen at `at_ms` (any clock, increasing), with the number of faces in it and the cues of
    /// the one face when there is exactly one.
    pub fn observe(&mut self, at_ms: f64, faces: usize, cues: Option<&Cues>) -> Outcome {
        if let Some(done) = &self.done {
            return done.clone();
        }
        let since = *self.step_since.get_or_insert(at_ms);
        let seconds = self.rules.step_ms / 1000.0;
        let outcome = match (faces, cues) {
            (1, Some(cues)) => {
                self.missing_since = None;
                if self.step_done(cues) {
                    self.index += 1;
                    self.step_since = Some(at_ms);
                    self.blink = Blink::WaitingOpen;
                    self.yaw_range = None;
                }
                self.running()
            }
            _ => {
                let missing = *self.missing_since.get_or_insert(at_ms);
                if at_ms - missing > self.rules.missing_ms {
                    let what = if faces > 1 { "more than one face in view" } else { "no face in view" };
                    Outcome::Failed { reason: format!("{what} for more than {} s", self.rules.missing_ms / 1000.0) }
                } else {
                    self.running()
                }
            }
        };
        let outcome = match outcome {
            Outcome::Running { index } if at_ms - since > self.rules.step_ms && self.step_since == Some(since) => {
                Outcome::Failed { reason: self.steps[index].undone(seconds) }
            }
            other => other,
        };
        if !matches!(outcome, Outcome::Running { .. }) {
            self.done = Some(outcome.clone());
        }
        outcome
    }

    fn running(&self) -> Outcome {
        if self.index == self.steps.len() {
            Outcome::Passed
        } else {
            Outcome::Running { index: self.index }
        }
    }

    /// Whether this frame completes the current step.
    fn step_done(&mut self, cues: &Cues) -> bool {
        let rules = self.rules;
        match self.steps[self.index] {
            Step::Blink => {
                // Both eyes: the more open one decides that they are closed, the more closed one that they
                // are open.
                let closed = cues.eyes_closed[0].min(cues.eyes_closed[1]);
                let open = cues.eyes_closed[0].max(cues.eyes_closed[1]);
                self.blink = match self.blink {
                    Blink::WaitingOpen if open <= rules.open => Blink::Open,
                    Blink::Open if closed >= rules.closed => Blink::Closed,
                    Blink::Closed if open <= rules.open => return true,
                    other => other,
                };
                false
            }
            turn => {
                let [low, high] = self.yaw_range.get_or_insert([cues.yaw, cues.yaw]);
                (*low, *high) = (low.min(cues.yaw), high.max(cues.yaw));
                match turn {
                    // Yaw grows as the head turns to the person's right.
                    Step::TurnRight => cues.yaw - *low >= rules.turn_degrees,
                    _ => *high - cues.yaw >= rules.turn_degrees,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(closed: f32, yaw: f32) -> Cues {
        Cues { eyes_closed: [closed, closed], yaw, pitch: 0.0, roll: 0.0 }
    }

    /// Frames every 100 ms, doing each step as asked.
    fn obey(c: &mut Challenge) -> Outcome {
        let mut t = 0.0;
        let mut last = Outcome::Running { index: 0 };
        for k in 0..c.steps.len() {
            let frames = match c.steps[k] {
                Step::Blink => vec![cues(0.0, 0.0), cues(1.0, 0.0), cues(0.0, 0.0)],
                Step::TurnLeft => vec![cues(0.0, 0.0), cues(0.0, -30.0)],
                Step::TurnRight => vec![cues(0.0, 0.0), cues(0.0, 30.0)],
            };
            for f in &frames {
                t += 100.0;
                last = c.observe(t, 1, Some(f));
            }
        }
        last
    }

    #[test]
    fn doing_each_step_passes_in_any_order() {
        let orders: std::collections::HashSet<Vec<Step>> =
            (0..40).map(|seed| Challenge::new(seed, Rules::default()).steps).collect();
        assert_eq!(orders.len(), 6, "every order of the three steps comes up");
        for seed in 0..6 {
            let mut c = Challenge::new(seed, Rules::default());
            assert_eq!(obey(&mut c), Outcome::Passed, "{:?}", c.steps);
        }
    }

    #[test]
    fn a_still_face_fails_on_its_first_step_and_says_why() {
        let mut c = Challenge::new(1, Rules::default());
        let mut out = Outcome::Running { index: 0 };
        for k in 0..100 {
            out = c.observe(k as f64 * 100.0, 1, Some(&cues(0.02, 2.0)));
        }
        let Outcome::Failed { reason } = out else { panic!("{out:?}") };
        assert!(reason.contains("within 6 s"), "{reason}");
        // Once failed, it stays failed.
        assert!(matches!(c.observe(20_000.0, 1, Some(&cues(1.0, 40.0))), Outcome::Failed { .. }));
    }

    #[test]
    fn closed_eyes_alone_or_a_lost_face_do_not_pass() {
        // Eyes closed from the start (a photo of closed eyes): no open-closed-open.
        let mut c = Challenge::new(0, Rules::default());
        c.steps = vec![Step::Blink];
        let outs: Vec<Outcome> = (0..80).map(|k| c.observe(k as f64 * 100.0, 1, Some(&cues(0.99, 0.0)))).collect();
        assert!(matches!(outs.last(), Some(Outcome::Failed { .. })));
        // No face for two seconds.
        let mut c = Challenge::new(0, Rules::default());
        let out = (0..20).map(|k| c.observe(k as f64 * 100.0, 0, None)).last().unwrap();
        assert_eq!(out, Outcome::Failed { reason: "no face in view for more than 1.5 s".into() });
        let mut c = Challenge::new(0, Rules::default());
        let out = (0..20).map(|k| c.observe(k as f64 * 100.0, 2, None)).last().unwrap();
        assert!(matches!(out, Outcome::Failed { reason } if reason.starts_with("more than one face")));
    }
}
