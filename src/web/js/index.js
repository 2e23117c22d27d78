// localface: face recognition on the device. Entry of the npm package.
//
//   import init, { Recognizer } from 'localface';
//   await init();
//   const recognizer = await Recognizer.create({ onProgress: p => console.log(p) });
//   const faces = await recognizer.identify(videoElement);
//
// `init` loads the WebAssembly module: the relaxed-SIMD build where the browser (or Node.js) has relaxed SIMD
// (fused multiply-add), the plain SIMD build otherwise. The models load from the package's models/ folder, checked
// against their sha256, unless `modelBaseUrl` points to the user's own.
import wasmInit, * as bindings from './localface.js';
import { guardClass, listen } from './guard.js';

// Every call into the module is guarded: a Rust panic becomes a `Panicked` error (guard.js).
export const Recognizer = guardClass(bindings.Recognizer);
export const Gallery = guardClass(bindings.Gallery);
export const TfliteModel = guardClass(bindings.TfliteModel);
export { RecognizerWorker } from './worker-client.js';

// A module whose only function uses i8x16.relaxed_swizzle: it validates only where relaxed SIMD exists.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253,
  15, 253, 128, 2, 11,
]);

/** Whether this browser runs relaxed-SIMD WebAssembly (a module using it would not even instantiate). */
export function hasRelaxedSimd() {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Node.js's `fs/promises` where this runs in Node (which cannot fetch file: URLs), else null. */
async function nodeFiles() {
  if (typeof process === 'undefined' || !process.versions?.node || typeof window !== 'undefined') return null;
  // A name out of bundlers' sight: a browser build must not try to bundle Node's fs.
  const name = 'node:fs/promises';
  return process.getBuiltinModule?.(name) ?? import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

/** The bytes of a file: URL in Node.js; null anywhere else (the browser fetches). */
async function readLocal(url) {
  const fs = String(url).startsWith('file:') ? await nodeFiles() : null;
  return fs ? new Uint8Array(await fs.readFile(new URL(url))) : null;
}

let ready = null;
let loaded = false;

/** Loads the WebAssembly module once; later calls return the same promise (a failed load can be retried). */
export default function init(options = {}) {
  if (!ready) {
    // Each build named by a fixed string, so that bundlers see and copy both.
    const relaxed = hasRelaxedSimd() && !options.noRelaxedSimd;
    const url = relaxed ? new URL('./localface_relaxed_bg.wasm', import.meta.url) : new URL('./localface_bg.wasm', import.meta.url);
    const source = options.wasmUrl ?? url;
    ready = readLocal(source).then((bytes) => wasmInit({ module_or_path: bytes ?? source })).then((exports) => {
      listen();
      loaded = true;
      return exports;
    }, (e) => {
      ready = null;
      // Such as a 404, or a server's HTML page where the wasm should be: say which address it was.
      const message = `cannot load the WebAssembly module from ${source}: ${(e && e.message) || e}`;
      throw Object.assign(new Error(message), { name: 'WasmLoadFailed' });
    });
  }
  return ready;
}

// The package's models, each named by a fixed string (a folder, or a name computed at run time, is what
// bundlers leave out): their addresses for the browser to fetch, or in Node.js functions that read the files.
// Recognizer.create checks them against their sha256 before use.
const PACKAGE_MODELS = Object.fromEntries([
  ['face_detection_short_range.tflite', new URL('./models/face_detection_short_range.tflite', import.meta.url)],
  ['face_detection_full_range.tflite', new URL('./models/face_detection_full_range.tflite', import.meta.url)],
  ['onet.tflite', new URL('./models/onet.tflite', import.meta.url)],
  ['MobileFaceNet.tflite', new URL('./models/MobileFaceNet.tflite', import.meta.url)],
].map(([file, url]) => [file, url.protocol === 'file:' ? () => readLocal(url) : url.href]));

/** Rejects a recognizer asked for before init() has loaded the module (it would fail deep inside). */
function loadedFirst() {
  if (loaded) return null;
  const message = 'the WebAssembly module is not loaded: await init() before creating a recognizer';
  return Promise.reject(Object.assign(new Error(message), { name: 'NotInitialized' }));
}

const { create, fromModels } = Recognizer;
/** Recognizer.create with the package's own models as the default (`modelBaseUrl` left out or undefined). */
Recognizer.create = function (options = {}) {
  const early = loadedFirst();
  if (early) return early;
  if (options.modelBaseUrl != null) return create.call(Recognizer, options);
  const { modelBaseUrl, ...rest } = options;
  return create.call(Recognizer, { ...rest, packageModels: PACKAGE_MODELS });
};
Recognizer.fromModels = function (...args) {
  return loadedFirst() ?? fromModels.apply(Recognizer, args);
};
