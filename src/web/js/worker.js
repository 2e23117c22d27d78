// The recognizer in a Web Worker: receives { id, method, args } and answers { id, result } or { id, error }.
// Frames arrive as transferred ImageBitmaps or VideoFrames and are closed once used.
import init, { Recognizer } from './index.js';
import { panicOnNextCall } from './localface.js';

let recognizer = null;

async function call(method, args) {
  if (method === 'create') {
    await init(args[1] || {});
    const options = { ...args[0], onProgress: (p) => self.postMessage({ progress: p }) };
    recognizer = await Recognizer.create(options);
    const gallery = recognizer.gallery;
    try {
      return {
        kernels: recognizer.kernels, threshold: recognizer.threshold, encrypted: gallery.encrypted,
        galleryRestored: gallery.restored ?? null, backendChoice: recognizer.backendChoice ?? null,
      };
    } finally {
      gallery.free();
    }
  }
  // Fault injection for the tests (see src/web/panic.rs).
  if (method === 'panicOnNextCall') return panicOnNextCall(...args);
  if (!recognizer) throw Object.assign(new Error('the recognizer is not created yet'), { name: 'RecognizerClosed' });
  if (method.startsWith('gallery.')) {
    const gallery = recognizer.gallery;
    try {
      return await gallery[method.slice('gallery.'.length)](...args);
    } finally {
      gallery.free();
    }
  }
  if (!['detect', 'identify', 'track', 'resetTracks', 'enroll', 'verify', 'loadLiveness', 'liveness', 'loadChallenge',
    'startChallenge', 'challengeFrame', 'memoryBytes'].includes(method)) {
    throw Object.assign(new Error('unknown method ' + method), { name: 'InputInvalid' });
  }
  return await recognizer[method](...args);
}

self.onmessage = async ({ data: { id, method, args } }) => {
  try {
    const result = await call(method, args);
    // The backend can change after any call (the GPU failed and the CPU took over): report it each time.
    self.postMessage({ id, result, backend: recognizer.backend, fallbackReason: recognizer.fallbackReason });
  } catch (e) {
    // A panic loses the recognizer (the module restarts: guard.js): the client then starts a fresh worker,
    // which loads the models and the stored gallery again.
    // The error's name travels with its message: callers branch on it (see index.d.ts).
    const crashed = e instanceof WebAssembly.RuntimeError || e?.name === 'Panicked' || e?.name === 'RecognizerLost';
    self.postMessage({ id, error: String((e && e.message) || e), name: (e && e.name) || 'Error', crashed });
  } finally {
    for (const a of args) if (a && typeof a.close === 'function') a.close();
  }
};
