// Every documented call of the package, type-checked with `tsc --strict` (tests/types/tsconfig.json): a
// type missing from index.d.ts, or one that does not fit how the README says to call it, fails CI. Not run.
import init, { Recognizer, RecognizerWorker, TfliteModel, hasRelaxedSimd } from '../../pkg/index.js';
import type { LocalfaceErrorName, IdentifiedFace, TrackedFace, FrameSource } from '../../pkg/index.js';

export async function usage(video: HTMLVideoElement, jpeg: Uint8Array, models: Uint8Array[]): Promise<void> {
  await init({ noRelaxedSimd: !hasRelaxedSimd() });
  await init({ wasmUrl: new URL('https://example.org/localface_bg.wasm') });
  const recognizer = await Recognizer.create({ backend: 'auto', gallery: null, threshold: 0.5, onProgress: (p) => p.loaded });
  const faces: IdentifiedFace[] = await recognizer.identify(video);
  const names: (string | null)[] = faces.map((f) => f.name);
  const tracked: TrackedFace[] = await recognizer.track(jpeg);
  const ids: number[] = tracked.map((t) => t.trackId);
  await recognizer.enroll('Ada', jpeg);
  const verdict = await recognizer.verify(video, jpeg);
  const same: boolean = verdict.same;
  recognizer.gallery.people().map((p) => p.name + p.samples);
  const source: FrameSource = jpeg;
  console.log(names, ids, same, source, recognizer.backend, recognizer.backendChoice?.reason, recognizer.kernels);
  recognizer.free();

  // Disposed at the end of the block (TypeScript 5.2's `using`).
  {
    using own = await Recognizer.fromModels(models[0], models[1], models[2], { detector: 'short' });
    await own.detect(jpeg);
  }

  const worker = await RecognizerWorker.create({ gallery: 'people' }, { wasmUrl: 'localface_bg.wasm' });
  await worker.identify(video);
  await worker.gallery.people();
  worker.terminate();

  const model = new TfliteModel(models[2], 'reference');
  const outputs: Float32Array[] = await model.run(new Float32Array(112 * 112 * 3), [1, 112, 112, 3]);
  console.log(outputs.length);
  model.free();

  try {
    await Recognizer.create();
  } catch (e) {
    const name = (e as Error).name as LocalfaceErrorName;
    if (name === 'NotInitialized' || name === 'WasmLoadFailed' || name === 'ModelInvalid') console.log(name);
  }
}
