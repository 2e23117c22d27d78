// The demo's liveness check: the anti-spoofing model on a frame (passive), then a challenge over camera
// frames (active: blink, turn the head left, turn it right, in random order). Its four models are optional
// downloads (scripts/fetch-models.sh; the build copies them to optional-models/): without them the check is
// not offered.

const FILES = ['fr_liveness.onnx', 'fr_landmark.onnx', 'fr_eye.onnx', 'fr_pose.onnx'];
const SAY = { blink: 'Blink', turnLeft: 'Turn your head to your left', turnRight: 'Turn your head to your right' };
/** How long a passed check counts, for enrolling or naming. */
const VALID_MS = 2 * 60 * 1000;

/** The check's state, for the page and the end-to-end tests. */
export const check = { available: false, running: false, state: null, reason: null, steps: [], step: null, passedAt: null };

let loaded = null;

/** Whether the optional models are served (a HEAD request each: nothing is downloaded yet). */
export async function probe() {
  const found = await Promise.all(FILES.map((f) => fetch('optional-models/' + f, { method: 'HEAD' }).then((r) => r.ok, () => false)));
  check.available = found.every(Boolean);
  return check.available;
}

/** Whether a check passed recently enough to enroll or name someone. */
export function passedRecently() {
  return check.passedAt !== null && performance.now() - check.passedAt < VALID_MS;
}

async function bytes(file) {
  const response = await fetch('optional-models/' + file);
  if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Gives the recognizer the models (once per recognizer). */
async function load(recognizer) {
  if (loaded === recognizer) return;
  const [liveness, landmark, eye, pose] = await Promise.all(FILES.map(bytes));
  await recognizer.loadLiveness(liveness);
  await recognizer.loadChallenge(landmark, eye, pose);
  loaded = recognizer;
}

/**
 * Runs the whole check on camera frames (`grab` gives one, already owned by the caller until sent) and
 * reports each instruction through `show(text)`. Resolves to the check's state: passed, or failed with why.
 */
export async function run(recognizer, grab, show) {
  Object.assign(check, { running: true, state: 'running', reason: null, step: null, passedAt: null });
  try {
    await load(recognizer);
    // Each frame is closed once used (one sent to the worker is closed already): a camera has few buffers.
    const onFrame = async (use) => {
      const frame = await grab();
      try {
        return await use(frame);
      } finally {
        frame.close();
      }
    };
    show('Look at the camera');
    const faces = await onFrame((frame) => recognizer.liveness(frame));
    if (faces.length !== 1) return finish('failed', faces.length ? 'more than one face in view' : 'no face in view');
    if (!faces[0].live) return finish('failed', `this looks like a photo or a screen (live score ${faces[0].score.toFixed(2)})`);
    const started = await recognizer.startChallenge(seedFromUrl());
    check.steps = started.steps;
    for (;;) {
      const r = await onFrame((frame) => recognizer.challengeFrame(frame));
      if (r.state !== 'running') return finish(r.state, r.reason);
      if (r.step !== check.step) {
        check.step = r.step;
        show(`${SAY[r.step]} (${started.steps.indexOf(r.step) + 1} of ${started.steps.length})`);
      }
    }
  } catch (e) {
    return finish('failed', e.message);
  } finally {
    check.running = false;
  }
}

function finish(state, reason) {
  Object.assign(check, { state, reason, step: null, passedAt: state === 'passed' ? performance.now() : null });
  return check;
}

/** ?challengeSeed=N fixes the steps' order (for the end-to-end tests). */
function seedFromUrl() {
  const seed = new URLSearchParams(location.search).get('challengeSeed');
  return seed === null ? {} : { seed: Number(seed) };
}
