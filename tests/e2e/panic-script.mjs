// Run by panic.test.mjs as a Node.js process of its own, where nothing listens for uncaught errors: a panic
// that escaped as a trap would end it. Makes each export panic once (panicOnNextCall), and the GPU panic found
// in Node.js, and prints what every call gave as one JSON object.
//   node tests/e2e/panic-script.mjs FACES_FOLDER
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import init, { Recognizer, Gallery, TfliteModel } from '../../pkg/index.js';
import { panicOnNextCall } from '../../pkg/localface.js';

const faces = process.argv[2];
const photo = (p) => readFileSync(join(faces, p));
const model = (file) => new Uint8Array(readFileSync(new URL(`../../pkg/models/${file}`, import.meta.url)));
const ONET = model('onet.tflite');
const PLANE = [new Float32Array(48 * 48 * 3), [1, 48, 48, 3]];

/** Every export, called as an app would. */
const CALLS = {
  'Recognizer.create': () => Recognizer.create({ gallery: null }),
  'Recognizer.fromModels': () => Recognizer.fromModels(model('face_detection_short_range.tflite'), ONET,
    model('MobileFaceNet.tflite'), { gallery: null }),
  'Recognizer.backend': ({ r }) => r.backend,
  'Recognizer.fallbackReason': ({ r }) => r.fallbackReason,
  'Recognizer.backendChoice': ({ r }) => r.backendChoice,
  'Recognizer.kernels': ({ r }) => r.kernels,
  'Recognizer.threshold': ({ r }) => r.threshold,
  'Recognizer.memoryBytes': ({ r }) => r.memoryBytes(),
  'Recognizer.detect': ({ r }) => r.detect(photo('emotions-a/a1.jpg')),
  'Recognizer.identify': ({ r }) => r.identify(photo('emotions-a/a1.jpg')),
  'Recognizer.track': ({ r }) => r.track(photo('emotions-a/a1.jpg')),
  'Recognizer.resetTracks': ({ r }) => r.resetTracks(),
  'Recognizer.enroll': ({ r }) => r.enroll('Ada', photo('emotions-a/a1.jpg')),
  'Recognizer.verify': ({ r }) => r.verify(photo('emotions-a/a1.jpg'), photo('emotions-a/a2.jpg')),
  'Recognizer.gallery': ({ r }) => r.gallery,
  'Recognizer.loadLiveness': ({ r }) => r.loadLiveness(new Uint8Array(8)),
  'Recognizer.liveness': ({ r }) => r.liveness(photo('emotions-a/a1.jpg')),
  'Recognizer.loadChallenge': ({ r }) => r.loadChallenge(new Uint8Array(8), new Uint8Array(8), new Uint8Array(8)),
  'Recognizer.startChallenge': ({ r }) => r.startChallenge({ seed: 1 }),
  'Recognizer.challengeFrame': ({ r }) => r.challengeFrame(photo('emotions-a/a1.jpg'), 0),
  'Gallery.people': ({ g }) => g.people(),
  'Gallery.rename': ({ g }) => g.rename('Ada', 'Ada L.'),
  'Gallery.remove': ({ g }) => g.remove('Ada'),
  'Gallery.clear': ({ g }) => g.clear(),
  'Gallery.export': ({ g }) => g.export(),
  'Gallery.encrypted': ({ g }) => g.encrypted,
  'Gallery.restored': ({ g }) => g.restored,
  'Gallery.import': ({ g }) => g.import(new Uint8Array(8)),
  'TfliteModel.new': () => new TfliteModel(ONET),
  'TfliteModel.onGpu': () => TfliteModel.onGpu(ONET),
  'TfliteModel.backend': ({ m }) => m.backend,
  'TfliteModel.kernels': ({ m }) => m.kernels,
  'TfliteModel.profile': ({ m }) => m.profile(...PLANE, 1),
  'TfliteModel.run': ({ m }) => m.run(...PLANE),
};

/** The exports the package's classes have (methods, getters, statics; the constructor as `new`). */
function exportsOf() {
  const names = ['TfliteModel.new'];
  for (const [label, cls] of Object.entries({ Recognizer, Gallery, TfliteModel })) {
    for (const target of [cls, cls.prototype]) {
      for (const key of Object.getOwnPropertyNames(target)) {
        if (key.startsWith('__') || ['constructor', 'prototype', 'length', 'name', 'free'].includes(key)) continue;
        names.push(`${label}.${key}`);
      }
    }
  }
  return names.sort();
}

/** 'ok' or the error's name and message (a synchronous throw as well as a rejection). */
async function outcome(call) {
  try {
    await call();
    return 'ok';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

async function objects() {
  const r = await Recognizer.create({ gallery: null });
  return { r, g: r.gallery, m: new TfliteModel(ONET) };
}

await init();
const result = { exports: exportsOf(), calls: {}, stale: {} };

for (const [name, call] of Object.entries(CALLS)) {
  const made = await objects();
  panicOnNextCall(name);
  result.calls[name] = await outcome(() => call(made));
  // Made before the panic: refused by name (and freed without touching the new instance).
  result.stale[name] = await outcome(() => made.r.threshold);
  for (const o of Object.values(made)) o.free();
}

// A call under way when another panics fails with it, instead of never settling.
{
  const { r } = await objects();
  const pending = Recognizer.create({ gallery: null });
  panicOnNextCall('Recognizer.memoryBytes');
  result.syncPanic = await outcome(() => r.memoryBytes());
  result.underWay = await outcome(() => pending);
}

// The panic found in Node.js: wgpu asked for a GPU where navigator.gpu exists but this is no window or worker.
Object.defineProperty(globalThis, 'navigator', { value: { gpu: {} }, configurable: true });
result.gpu = await outcome(() => Recognizer.create({ backend: 'gpu', gallery: null }));
delete globalThis.navigator;

// After all that, the module still works: a fresh recognizer enrols and names Ada.
const r = await Recognizer.create({ gallery: null });
await r.enroll('Ada', photo('emotions-a/a1.jpg'));
result.after = (await r.identify(photo('emotions-a/a2.jpg'))).map((f) => f.name);
result.memoryMb = Math.round(process.memoryUsage().rss / 2 ** 20);
r.free();
// Errors thrown later by the dead instances' leftover callbacks would end the process before this line.
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(JSON.stringify(result));
