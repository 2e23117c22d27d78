// The npm package in Node.js, with the browser's calls: init() reads the wasm from the package, Recognizer.create
// its models (checked against their sha256), images come as encoded bytes (Buffers of JPEG), the gallery lives
// in memory, and `auto` does not touch WebGPU, which Node has none of. Run: node --test tests/e2e/   (after
// scripts/build-web.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, haveFaces, mirrored } from './lib.mjs';
import init, { Recognizer, TfliteModel } from '../../pkg/index.js';

test('in Node.js the package enrols and identifies photos given as bytes', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const photo = (p) => readFileSync(join(FACES, p));
  await init();
  const r = await Recognizer.create();
  try {
    assert.equal(r.backend, 'cpu');
    assert.match(r.backendChoice.reason, /no WebGPU here/);
    const enrolled = await r.enroll('Ada', photo('emotions-a/a1.jpg'));
    assert.equal(enrolled.samples, 1);
    // Another photo of her is Ada (a Uint8Array, as well as a Buffer); a stranger is no one.
    const other = await r.identify(new Uint8Array(photo('emotions-a/a2.jpg')));
    assert.deepEqual(other.map((f) => f.name), ['Ada']);
    const stranger = await r.identify(photo('emotions-b/b1.jpg'));
    assert.deepEqual(stranger.map((f) => f.name), [null]);
    // The gallery is in memory (no IndexedDB here): a second recognizer starts empty.
    const second = await Recognizer.create();
    assert.deepEqual(await second.gallery.people(), []);
    second.free();
    // Bytes that are no image are an error with its name, not a crash.
    await assert.rejects(r.identify(new Uint8Array([1, 2, 3])), (e) => e.name === 'InputInvalid' && /not an image/.test(e.message));
  } finally {
    r.free();
  }
  // Asking for the GPU where there is no WebGPU is an error that says so, and the process goes on.
  await assert.rejects(Recognizer.create({ backend: 'gpu' }), (e) => e.name === 'GpuFailed' && /no WebGPU/.test(e.message));
});

test('in Node.js the liveness model tells the spoof samples apart', { timeout: 300000 }, async (t) => {
  const spoof = join(FACES, '../spoof');
  if (!haveFaces()) return t.skip('no shared photos');
  const frame = (f) => readFileSync(join(spoof, f));
  await init();
  const r = await Recognizer.create();
  try {
    // Before its model is given: an error that says what to do.
    await assert.rejects(r.liveness(frame('image_T1.jpg')), (e) => e.name === 'OptionInvalid' && /loadLiveness/.test(e.message));
    // A file that is no model: refused by name, and the recognizer goes on.
    await assert.rejects(r.loadLiveness(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), (e) => e.name === 'ModelInvalid');
    const onnx = readFileSync(new URL('../../models/fr_liveness.onnx', import.meta.url));
    await r.loadLiveness(onnx);
    // The same file as a bare model: NHWC in, the 3 logits out.
    const bare = new TfliteModel(onnx);
    assert.equal((await bare.run(new Float32Array(128 * 128 * 3).fill(100), [1, 128, 128, 3]))[0].length, 3);
    bare.free();
    const verdicts = [];
    for (const f of ['image_F1.jpg', 'image_F2.jpg', 'image_T1.jpg']) {
      const faces = await r.liveness(frame(f));
      assert.equal(faces.length, 1, f);
      verdicts.push(faces[0]);
    }
    // Two presentation attacks, then a live person (the command line's figures: 0.0000, 0.1026, 0.9338).
    assert.deepEqual(verdicts.map((v) => v.live), [false, false, true]);
    assert.ok(verdicts[0].score < 0.2 && verdicts[1].score < 0.2 && verdicts[2].score > 0.8, JSON.stringify(verdicts));
    assert.ok(verdicts[2].box.width > 100, JSON.stringify(verdicts[2].box));
  } finally {
    r.free();
  }
});

test('in Node.js the liveness challenge passes blinking and turning frames and fails a still photo', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const photo = (p) => readFileSync(join(FACES, p));
  const model = (f) => readFileSync(new URL(`../../models/${f}`, import.meta.url));
  await init();
  const r = await Recognizer.create({ gallery: null });
  try {
    await assert.rejects(r.challengeFrame(photo('emotions-b/b6.jpg'), 0), (e) => e.name === 'OptionInvalid' && /loadChallenge/.test(e.message));
    await assert.rejects(r.loadChallenge(model('fr_landmark.onnx'), new Uint8Array(8), model('fr_pose.onnx')), (e) => e.name === 'ModelInvalid');
    // The models in the wrong places: refused by what they take.
    await assert.rejects(r.loadChallenge(model('fr_eye.onnx'), model('fr_landmark.onnx'), model('fr_pose.onnx')), (e) => e.name === 'ModelInvalid');
    await r.loadChallenge(model('fr_landmark.onnx'), model('fr_eye.onnx'), model('fr_pose.onnx'));
    await assert.rejects(r.challengeFrame(photo('emotions-b/b6.jpg'), 0), (e) => e.name === 'OptionInvalid' && /startChallenge/.test(e.message));
    assert.throws(() => r.startChallenge({ stepSeconds: 0 }), (e) => e.name === 'OptionInvalid');
    // One woman's real frames (as the command-line test): open, closed, open, turned right, mirrored (left).
    const [open, closed, right] = ['b6', 'b4', 'b7'].map((b) => photo(`emotions-b/${b}.jpg`));
    const left = readFileSync(mirrored('emotions-b/b7.jpg'));
    const round = [open, closed, open, right, left, open];
    const run = async (frames, seed) => {
      const started = r.startChallenge({ seed });
      let last;
      for (const [k, f] of frames.entries()) {
        last = await r.challengeFrame(new Uint8Array(f), k * 500);
        if (last.state !== 'running') break;
      }
      return { started, last };
    };
    const { started, last } = await run([...round, ...round, ...round, ...round], 4);
    assert.deepEqual([...started.steps].sort(), ['blink', 'turnLeft', 'turnRight']);
    assert.equal(last.state, 'passed', JSON.stringify(last));
    const still = await run(Array(20).fill(open), 4);
    assert.equal(still.last.state, 'failed');
    assert.match(still.last.reason, /within 6 s/);
    assert.ok(still.last.cues.eyesClosed[0] < 0.3 && Math.abs(still.last.cues.yaw) < 40, JSON.stringify(still.last.cues));
  } finally {
    r.free();
  }
});

test('in Node.js the second embedder gives its own embeddings, threshold and gallery', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const photo = (p) => readFileSync(join(FACES, p));
  const pkg = (f) => readFileSync(new URL(`../../pkg/models/${f}`, import.meta.url));
  const fr = readFileSync(new URL('../../models/fr_feature.onnx', import.meta.url));
  await init();
  await assert.rejects(Recognizer.create({ embedder: 'ArcFace' }), (e) => e.name === 'OptionInvalid' && /MobileFaceNet, fr_feature/.test(e.message));
  // fromModels takes fr_feature's bytes: which embedder it is, they say.
  const r = await Recognizer.fromModels(pkg('face_detection_short_range.tflite'), pkg('onet.tflite'), fr, { gallery: null });
  const mobile = await Recognizer.create({ gallery: null });
  try {
    assert.equal(r.threshold, Math.fround(0.4));
    assert.equal(mobile.threshold, 0.5);
    await r.enroll('Amy', photo('amy/amy1.png'));
    const found = await r.identify(photo('amy/amy4.png'));
    assert.deepEqual(found.map((f) => f.name), ['Amy']);
    // Its gallery file, imported where MobileFaceNet embeds: refused by name.
    const file = await r.gallery.export();
    await assert.rejects(mobile.gallery.import(file), (e) => e.name === 'GalleryCorrupt' && /made by the embedder fr_feature/.test(e.message));
    assert.deepEqual(await mobile.gallery.people(), []);
  } finally {
    r.free();
    mobile.free();
  }
});
