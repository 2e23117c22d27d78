// Times this project's CPU backend and TFLite's WebAssembly runtime (XNNPACK, SIMD) on the same .tflite
// files in this page: 10 warm-up runs, then the median and p90 of 50. MobileFaceNet.tflite is fixed at
// batch 2, so both run 2 faces per call and the figures are per face. Two threads: TFLite with
// numThreads 2 (this page is cross-origin isolated); localface with two workers, each its own instance,
// each taking one face (MobileFaceNet) or one frame (BlazeFace).
import init, { TfliteModel } from '/pkg/index.js';

const WARMUP = 10, RUNS = 50;
const log = (s) => { document.getElementById('log').textContent += '\n' + s; };

function stats(ms) {
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p90: ms[Math.floor(ms.length * 0.9)] };
}

async function time(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return stats(ms);
}

/** Deterministic values in [-1, 1]: the timing does not depend on them. */
function input(n, seed) {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s / 2 ** 32) * 2 - 1; }
  return a;
}

async function bytes(url) { return new Uint8Array(await (await fetch(url)).arrayBuffer()); }

/**
 * A worker holding its own localface instance with one model and one item (face or frame). The item waits in
 * shared memory (this page is cross-origin isolated), so a call carries no data and is timed like the
 * one-thread run: copy into the instance, run, outputs back.
 */
function worker(modelBytes, item, shape) {
  const w = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
  let next = 0;
  const pending = new Map();
  w.onmessage = ({ data }) => { const p = pending.get(data.id); pending.delete(data.id); data.error ? p.reject(new Error(data.error)) : p.resolve(); };
  const call = (msg) => new Promise((resolve, reject) => { const id = next++; pending.set(id, { resolve, reject }); w.postMessage({ id, ...msg }); });
  const shared = new Float32Array(new SharedArrayBuffer(item.byteLength));
  shared.set(item);
  return { ready: call({ load: modelBytes, item: shared, shape }), run: () => call({}), terminate: () => w.terminate() };
}

const MODELS = {
  mobilefacenet: { file: 'MobileFaceNet.tflite', shape: [2, 112, 112, 3], perCall: 2 },
  blazeface_short: { file: 'face_detection_short_range.tflite', shape: [1, 128, 128, 3], perCall: 1 },
};

/** ?profile=1: time per op type of this project's kernels, nothing else. */
async function profile() {
  for (const [name, m] of Object.entries(MODELS)) {
    const model = new TfliteModel(await bytes('/models/' + m.file));
    const x = input(m.shape.reduce((a, b) => a * b, 1), 7);
    const perCall = async () => {
      const t = performance.now();
      for (let i = 0; i < RUNS; i++) await model.run(x, m.shape);
      return ((performance.now() - t) / RUNS).toFixed(2);
    };
    const first = await perCall();
    const perOp = model.profile(x, m.shape, RUNS);
    log(`${name}: ${first} then ${await perCall()} ms per call; per op: ` +
      Object.entries(perOp).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', '));
  }
  window.benchResults = { profile: document.getElementById('log').textContent };
}

async function main() {
  await init();
  if (new URLSearchParams(location.search).get('profile')) return profile();
  const results = { crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
  await tflite.setWasmPath('/node_modules/@tensorflow/tfjs-tflite/wasm/');
  for (const [name, m] of Object.entries(MODELS)) {
    const url = '/models/' + m.file;
    const model = await bytes(url);
    const n = m.shape.reduce((a, b) => a * b, 1);
    const x = input(n, 7);
    const r = {};

    const ours = new TfliteModel(model);
    const one = await time(() => ours.run(x, m.shape));
    r.localface_1t_ms = one.median / m.perCall; r.localface_1t_p90_ms = one.p90 / m.perCall;
    ours.free();

    // Two workers: the call's items (faces or frames) split between them; per item = wall time / 2.
    const single = [1, ...m.shape.slice(1)];
    const itemSize = n / m.shape[0];
    const items = [x.slice(0, itemSize), input(itemSize, 11)];
    const workers = items.map((item) => worker(model, item, single));
    await Promise.all(workers.map((w) => w.ready));
    const two = await time(() => Promise.all(workers.map((w) => w.run())));
    r.localface_2t_ms = two.median / 2; r.localface_2t_p90_ms = two.p90 / 2;
    workers.forEach((w) => w.terminate());

    for (const threads of [1, 2]) {
      const tfl = await tflite.loadTFLiteModel(url, { numThreads: threads });
      const t = tf.tensor(x, m.shape);
      const s = await time(() => {
        const out = tfl.predict(t);
        const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
        tensors.forEach((o) => { o.dataSync(); o.dispose(); });
      });
      r[`tflite_${threads}t_ms`] = s.median / m.perCall; r[`tflite_${threads}t_p90_ms`] = s.p90 / m.perCall;
      t.dispose();
    }
    results[name] = r;
    log(name + ' ' + JSON.stringify(r));
  }
  window.benchResults = results;
  log('done');
}

main().catch((e) => { window.benchResults = { error: String(e && e.stack || e) }; log('error: ' + e); });
