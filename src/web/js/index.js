// localface: face recognition on the device. Entry of the npm package.
//
//   import init, { Recognizer } from 'localface';
//   await init();
//   const recognizer = await Recognizer.create({ onProgress: p => console.log(p) });
//   const faces = await recognizer.identify(videoElement);
//
// `init` loads the WebAssembly module: the relaxed-SIMD build where the browser has relaxed SIMD (fused
// multiply-add), the plain SIMD build otherwise. The models load from the package's models/ folder unless
// `modelBaseUrl` says otherwise.
import wasmInit, { Recognizer, Gallery, TfliteModel } from './localface.js';

export { Recognizer, Gallery, TfliteModel };
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

let ready = null;

/** Loads the WebAssembly module once; later calls return the same promise. */
export default function init(options = {}) {
  if (!ready) {
    const file = hasRelaxedSimd() && !options.noRelaxedSimd ? 'localface_relaxed_bg.wasm' : 'localface_bg.wasm';
    ready = wasmInit({ module_or_path: options.wasmUrl ?? new URL(file, import.meta.url) });
  }
  return ready;
}

const create = Recognizer.create;
/** Recognizer.create with the package's own models as the default. */
Recognizer.create = function (options = {}) {
  const modelBaseUrl = new URL('./models/', import.meta.url).href;
  return create.call(Recognizer, { modelBaseUrl, ...options });
};
