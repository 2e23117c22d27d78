// Times this project's CPU backend, in both of its builds (plain SIMD and relaxed SIMD), and TFLite's
// WebAssembly runtime (XNNPACK, SIMD) on the same .tflite files in this page. The contenders take turns one
// run at a time, ROUNDS rounds after 10 warm-up runs each: this machine has stretches of seconds at about
// two thirds of its speed, and a run-by-run turn puts every contender in them alike. Median and p90 of each
// contender's runs, and each ratio to TFLite as the median of the rounds' ratios (one round's runs were
// taken within milliseconds of each other).
// MobileFaceNet.tflite is fixed at batch 2, so every contender runs 2 faces per call and the figures are per
// face. One thread: localface in a worker of its own (each build needs its own module instance), timed
// there; TFLite on this page. Two threads: TFLite with numThreads 2 (this page is cross-origin isolated);
// localface with two workers, each its own instance, each taking one face (MobileFaceNet) or one frame
// (BlazeFace), timed on this page. Every model runs at one thread first, then at two.
import init, { TfliteModel } from '/pkg/index.js';

const WARMUP = 10, ROUNDS = 50;
const log = (s) => { document.getElementById('log').textContent += '\n' + s; };

function stats(ms) {
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], p90: ms[Math.floor(ms.length * 0.9)] };
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
 * A worker holding its own localface instance (`plain`: the build without relaxed SIMD) with one model and
 * one input. The input waits in shared memory, so a call carries no data.
 */
async function worker(modelBytes, item, shape, plain) {
  const w = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
  let next = 0;
  const pending = new Map();
  w.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    pending.delete(data.id);
    data.error ? p.reject(new Error(data.error)) : p.resolve(data);
  };
  const call = (msg) => new Promise((resolve, reject) => { const id = next++; pending.set(id, { resolve, reject }); w.postMessage({ id, ...msg }); });
  const shared = new Float32Array(new SharedArrayBuffer(item.byteLength));
  shared.set(item);
  const { kernels } = await call({ load: modelBytes, item: shared, shape, plain });
  return { kernels, runs: async (n) => (await call({ runs: n })).ms, terminate: () => w.terminate() };
}

/** Times `n` calls of `fn` on this page; returns each call's milliseconds. */
async function timed(fn, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

const MODELS = {
  mobilefacenet: { file: 'MobileFaceNet.tflite', shape: [2, 112, 112, 3], perCall: 2 },
  blazeface_short: { file: 'face_detection_short_range.tflite', shape: [1, 128, 128, 3], perCall: 1 },
  blazeface_full: { file: 'face_detection_full_range.tflite', shape: [1, 192, 192, 3], perCall: 1 },
};

/**
 * The contenders for one model at one thread count: name -> function(n) giving n runs' milliseconds (per
 * call), and `done` to free them all (TFLite's interpreter and its thread pool included).
 */
async function contenders(url, m, threads, kernels) {
  const model = await bytes(url);
  const n = m.shape.reduce((a, b) => a * b, 1);
  const x = input(n, 7);
  const single = [1, ...m.shape.slice(1)];
  const itemSize = n / m.shape[0];
  const items = [x.slice(0, itemSize), input(itemSize, 11)];
  const all = {}, cleanup = [];
  for (const build of ['relaxed', 'plain']) {
    const plain = build === 'plain';
    if (threads === 1) {
      const one = await worker(model, x, m.shape, plain);
      kernels[build] = one.kernels;
      all[`localface_${build}_1t_ms`] = one.runs;
      cleanup.push(one);
    } else {
      // Two workers: the call's items (faces or frames) split between them; per item = wall time / 2.
      const two = await Promise.all(items.map((item) => worker(model, item, single, plain)));
      all[`localface_${build}_2t_ms`] = (k) => timed(() => Promise.all(two.map((w) => w.runs(1))), k).then((ms) => ms.map((v) => v / 2 * m.perCall));
      cleanup.push(...two);
    }
  }
  const tfl = await tflite.loadTFLiteModel(url, { numThreads: threads });
  const t = tf.tensor(x, m.shape);
  all[`tflite_${threads}t_ms`] = (k) => timed(() => {
    const out = tfl.predict(t);
    const tensors = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
    tensors.forEach((o) => { o.dataSync(); o.dispose(); });
  }, k);
  // The interpreter is freed (cleanUp) before the next model's contenders are made.
  cleanup.push({ terminate: () => { t.dispose(); tfl.modelRunner.cleanUp(); } });
  return { all, done: () => cleanup.forEach((c) => c.terminate()) };
}

/**
 * Every contender of one model at one thread count warmed up, then ROUNDS rounds in turn; per item (face or
 * frame) median and p90, and the median of each round's ratio to TFLite, added to `r`.
 */
async function measure(m, threads, r) {
  const { all, done } = await contenders('/models/' + m.file, m, threads, r.kernels);
  const samples = Object.fromEntries(Object.keys(all).map((k) => [k, []]));
  for (const run of Object.values(all)) await run(WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, run] of Object.entries(all)) samples[key].push(...await run(1));
  }
  done();
  const tfl = samples[`tflite_${threads}t_ms`];
  for (const [key, ms] of Object.entries(samples)) {
    if (key.startsWith('localface_')) {
      const build = key.split('_')[1];
      r[`ratio_${build}_${threads}t`] = +stats(ms.map((v, i) => v / tfl[i])).median.toFixed(3);
    }
    const s = stats([...ms]);
    r[key] = s.median / m.perCall;
    r.p90[key] = s.p90 / m.perCall;
  }
}

/** ?profile=1: time per op type of this project's kernels, nothing else (?plain=1: the plain build). */
async function profile() {
  for (const [name, m] of Object.entries(MODELS)) {
    const model = new TfliteModel(await bytes('/models/' + m.file));
    const x = input(m.shape.reduce((a, b) => a * b, 1), 7);
    const perCall = async () => {
      const t = performance.now();
      for (let i = 0; i < 50; i++) await model.run(x, m.shape);
      return ((performance.now() - t) / 50).toFixed(2);
    };
    const first = await perCall();
    const perOp = model.profile(x, m.shape, 50);
    log(`${name} (${model.kernels}): ${first} then ${await perCall()} ms per call; per op: ` +
      Object.entries(perOp).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', '));
  }
  window.benchResults = { profile: document.getElementById('log').textContent };
}

async function main() {
  const query = new URLSearchParams(location.search);
  await init({ noRelaxedSimd: query.has('plain') });
  if (query.has('profile')) return profile();
  const results = { crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
  await tflite.setWasmPath('/node_modules/@tensorflow/tfjs-tflite/wasm/');
  // ?threads=1 or 2: that thread count only (run.mjs times one thread in a browser held to one core).
  const counts = query.has('threads') ? [Number(query.get('threads'))] : [1, 2];
  for (const name of Object.keys(MODELS)) results[name] = { kernels: {}, p90: {} };
  for (const threads of counts) {
    for (const [name, m] of Object.entries(MODELS)) {
      await measure(m, threads, results[name]);
      log(`${name} ${threads}t ` + JSON.stringify(results[name]));
    }
  }
  window.benchResults = results;
  log('done');
}

main().catch((e) => { window.benchResults = { error: String(e && e.stack || e) }; log('error: ' + e); });
