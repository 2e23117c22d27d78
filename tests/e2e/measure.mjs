// Measurements of the demo page in headless Chromium (a benchmark, not a test): .wasm sizes, time from
// navigation to the first recognised face, frames per second of the live loop with one face on each build,
// the live loop with tracking off and on (one face, six faces), the copies a frame goes through, and memory
// after 100 and after N frames. Run after scripts/build-web.sh:
//   node tests/e2e/measure.mjs [FRAMES]              (default 2000)
//   node tests/e2e/measure.mjs 20000 --memory-only   (the soak: only the memory curve of a long live loop)
//   node tests/e2e/measure.mjs --copies-only         (only the copies a camera frame goes through)
import { readFileSync, mkdtempSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, haveFaces, serve, video, occluded, launch, until } from './lib.mjs';

const FRAMES = Number(process.argv[2] || 2000);
const MEMORY_ONLY = process.argv.includes('--memory-only');
const COPIES_ONLY = process.argv.includes('--copies-only');
const ALL = !MEMORY_ONLY && !COPIES_ONLY;
if (!haveFaces()) process.exit(0);

for (const f of ['localface_bg.wasm', 'localface_relaxed_bg.wasm']) {
  const bytes = readFileSync(join(ROOT, 'pkg', f));
  console.log(`${f}: ${(bytes.length / 1024).toFixed(1)} KiB raw, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzip`);
}

const server = await serve();
const camera = video('person-a-still', 300, ['emotions-a/a1.jpg']);
const profile = mkdtempSync(join(tmpdir(), 'localface-measure-'));

// Enrol once, so later page loads have someone to recognise.
let context, page;
if (!COPIES_ONLY) {
  context = await launch({ profile, camera });
  page = await context.newPage();
  await page.goto(server.url + '/?camera=on');
  await until(page, () => window.localface.ready && window.localface.frames > 3);
  await page.fill('#name', 'Ada');
  // A fake camera shows photos: enrol without the liveness check the page asks for by default.
  await page.uncheck('#check-before-enroll');
  await page.click('#capture');
  await until(page, () => window.localface.people.length === 1);
  await context.close();
}

// Navigation to first recognised face, three fresh loads.
const firsts = [];
for (let i = 0; i < (ALL ? 3 : 0); i++) {
  context = await launch({ profile, camera });
  page = await context.newPage();
  await page.goto(server.url + '/?camera=on');
  await until(page, () => window.localface.firstRecognizedMs !== null);
  firsts.push(await page.evaluate(() => window.localface.firstRecognizedMs));
  await context.close();
}
firsts.sort((a, b) => a - b);
if (ALL) console.log(`navigation to first recognised face: ${firsts.map((t) => t.toFixed(0)).join(', ')} ms (median ${firsts[1].toFixed(0)} ms)`);

async function fps(page, seconds) {
  const f0 = await page.evaluate(() => window.localface.frames);
  const t0 = Date.now();
  await page.waitForTimeout(seconds * 1000);
  return ((await page.evaluate(() => window.localface.frames)) - f0) / ((Date.now() - t0) / 1000);
}

// Each backend: the CPU kernels in both builds, and WebGPU (headless Chromium's adapter is SwiftShader,
// a GPU emulated on the CPU, which the automatic choice skips; ?backend=gpu forces it).
for (const query of ALL ? ['', '&simd=plain', '&backend=gpu'] : []) {
  context = await launch({ profile, camera });
  page = await context.newPage();
  await page.goto(server.url + '/?camera=on' + query);
  await until(page, () => window.localface.frames > 5, undefined, 300000);
  const { backend, kernels } = await page.evaluate(() => ({ ...window.localface }));
  const where = backend === 'gpu' ? 'WebGPU backend' : `CPU backend (${kernels})`;
  console.log(`live loop, one face, ${where}: ${(await fps(page, 10)).toFixed(1)} frames per second`);
  await context.close();
}

// Tracking off (?live=identify: the whole pipeline on every frame) and on (the demo's default), in the same
// run, on two videos made from the shared photos. One face: Ada (enrolled from a1) moving across the frame
// (pan and zoom over a1), then other photos of her, a blurred stretch and a masked stretch (a6 with a
// surgical mask drawn from its landmarks). Six strangers: group/bbt4.jpg, faces about 90 px. For each: frames
// per second, the worker's time per frame, and from the faces seen in sampled frames: the share of frames
// where every face has the right name, and per track (tracking on) the share of its frames after its first
// second that show the right name, its name changes, and faces of strangers given a name.
const oneFace = video('ada-live', 30, ['emotions-a/a1.jpg:90~pan', 'emotions-a/a2.jpg:60', 'emotions-a/a1.jpg:45%3',
  occluded('mask', 'emotions-a/a6.jpg') + ':90', 'emotions-a/a5.jpg:60']);
const group = video('group-six', 300, ['group/bbt4.jpg']);
const live = {};
for (const [what, cam, who, seconds] of ALL ? [['oneFace', oneFace, 'Ada', 24], ['sixStrangers', group, null, 12]] : []) {
  live[what] = {};
  for (const mode of ['identify', 'track']) {
    context = await launch({ profile, camera: cam });
    page = await context.newPage();
    await page.goto(server.url + '/?camera=on&live=' + mode);
    await until(page, () => window.localface.frames > 5, undefined, 300000);
    const result = await watch(page, who, seconds);
    live[what][mode] = result;
    console.log(`${what}, ${mode}: ${result.fps} fps, worker ${result.workerMs} ms per frame, ${result.facesPerFrame} faces `
      + `per frame, right names in ${result.rightFrames} of ${result.sampledFrames} sampled frames, ${result.strangersNamed} `
      + `strangers named` + (mode === 'track' ? `, ${result.tracks.length} tracks, right names after their first second `
      + `${result.tracks.map((t) => t.rightShare).join(' / ')}, name changes ${result.tracks.map((t) => t.nameChanges).join(' / ')}` : ''));
    await context.close();
  }
  live[what].trackOverIdentify = +(live[what].track.workerMs / live[what].identify.workerMs).toFixed(3);
}

/** The live loop watched for `seconds`: its speed, and the names of the faces in sampled frames. */
async function watch(page, who, seconds) {
  const s0 = await page.evaluate(() => ({ frames: window.localface.frames, ms: window.localface.recognizeMs }));
  const tracks = new Map();
  let [sampled, right, faces, strangersNamed] = [0, 0, 0, 0];
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    const n = await page.evaluate(() => window.localface.frames);
    await until(page, (k) => window.localface.frames > k, n);
    const seen = await page.evaluate(() => window.localface.faces);
    const now = Date.now();
    sampled += 1;
    faces += seen.length;
    if (seen.length && seen.every((f) => f.name === who)) right += 1;
    strangersNamed += who === null ? seen.filter((f) => f.name !== null).length : 0;
    for (const f of seen.filter((f) => f.trackId !== undefined)) {
      const t = tracks.get(f.trackId) ?? { since: now, name: f.name, frames: 0, right: 0, nameChanges: 0 };
      if (t.name !== f.name) t.nameChanges += 1;
      t.name = f.name;
      if (now - t.since >= 1000) {
        t.frames += 1;
        t.right += f.name === who ? 1 : 0;
      }
      tracks.set(f.trackId, t);
    }
  }
  const s1 = await page.evaluate(() => ({ frames: window.localface.frames, ms: window.localface.recognizeMs }));
  const frames = s1.frames - s0.frames;
  return {
    fps: +(frames / ((Date.now() - t0) / 1000)).toFixed(1),
    workerMs: +((s1.ms - s0.ms) / frames).toFixed(1),
    facesPerFrame: +(faces / sampled).toFixed(2),
    sampledFrames: sampled,
    rightFrames: right,
    strangersNamed,
    tracks: [...tracks.entries()].map(([id, t]) => ({
      id, framesAfterFirstSecond: t.frames, rightShare: t.frames ? +(t.right / t.frames).toFixed(3) : null,
      nameChanges: t.nameChanges,
    })),
  };
}
if (ALL) console.log('live, JSON: ' + JSON.stringify(live));

// The copies a camera frame goes through on its way to the networks, each timed on its own, by both paths on
// the same frames. Where there is no VideoFrame: on the page, createImageBitmap(video) (the bitmap is then
// transferred to the worker, which copies nothing); in the worker, the glue's toImageData (drawImage onto a 2D
// canvas, then getImageData), wasm-bindgen's copy of the pixels into wasm memory, and the core's RGBA to RGB
// pass into a new buffer. The demo's path: on the page, new VideoFrame(video) (transferred too); in the
// worker, copyTo converting to RGBA straight into a new buffer in wasm memory (copyVideoFrame), and the RGBA to
// RGB pass in place in that buffer. The worker's steps are replayed here on the page's main thread with the
// same calls (the JS loops stand in for the wasm ones), 640x480, median of 60.
if (!MEMORY_ONLY) {
  context = await launch({ profile, camera });
  page = await context.newPage();
  await page.goto(server.url + '/?camera=on');
  await until(page, () => window.localface.frames > 5, undefined, 300000);
  const copies = await page.evaluate(async () => {
    const video = document.querySelector('video');
    const times = { bitmap: [], drawImage: [], getImageData: [], toWasm: [], rgb: [], videoFrame: [], copyTo: [], rgbInPlace: [] };
    const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const lap = (name, start) => { times[name].push(performance.now() - start); return performance.now(); };
    for (let i = 0; i < 60; i++) {
      await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
      let t = performance.now();
      const bitmap = await createImageBitmap(video);
      t = lap('bitmap', t);
      ctx.drawImage(bitmap, 0, 0);
      t = lap('drawImage', t);
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      t = lap('getImageData', t);
      const pixels = new Uint8Array(image.data);
      t = lap('toWasm', t);
      const rgb = new Uint8Array((pixels.length / 4) * 3);
      for (let p = 0, q = 0; p < pixels.length; p += 4, q += 3) {
        rgb[q] = pixels[p]; rgb[q + 1] = pixels[p + 1]; rgb[q + 2] = pixels[p + 2];
      }
      lap('rgb', t);
      bitmap.close();

      t = performance.now();
      const frame = new VideoFrame(video);
      t = lap('videoFrame', t);
      const rgba = new Uint8Array(frame.displayWidth * frame.displayHeight * 4);
      await frame.copyTo(rgba, { format: 'RGBA', colorSpace: 'srgb' });
      t = lap('copyTo', t);
      for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
        rgba[q] = rgba[p]; rgba[q + 1] = rgba[p + 1]; rgba[q + 2] = rgba[p + 2];
      }
      lap('rgbInPlace', t);
      frame.close();
    }
    const median = (v) => v.sort((a, b) => a - b)[v.length >> 1];
    return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  });
  const sum = (keys) => keys.reduce((total, k) => total + copies[k], 0).toFixed(2);
  console.log('frame copies, 640x480, ms: ' + Object.entries(copies).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')
    + `; ImageBitmap path ${sum(['bitmap', 'drawImage', 'getImageData', 'toWasm', 'rgb'])}, `
    + `VideoFrame path ${sum(['videoFrame', 'copyTo', 'rgbInPlace'])}`);
  await context.close();
}
if (COPIES_ONLY) {
  server.stop();
  process.exit(0);
}

// Memory: wasm memory of the worker's instance, the page's JS heap after GC, and the browser's estimate for
// the whole page (workers included).
context = await launch({ profile, camera });
page = await context.newPage();
const cdp = await context.newCDPSession(page);
await page.goto(server.url + '/?camera=on');
async function memory() {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(() => window.localface.wasmMemoryBytes());
  const all = await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
  return { frames: await page.evaluate(() => window.localface.frames), wasm, heap: heap.usedSize, all };
}
const mib = (b) => (b / 1048576).toFixed(1) + ' MiB';
const curve = [];
for (const at of [100, 250, 500, 1000, 1500, 2500, 5000, 7500, 10000, 12500, 15000, 17500, FRAMES]) {
  if (at > FRAMES) continue;
  await until(page, (n) => window.localface.frames >= n, at, 600000);
  const m = await memory();
  curve.push(m);
  console.log(`after ${m.frames} frames: wasm memory ${mib(m.wasm)}, page JS heap ${mib(m.heap)}, whole page (workers too) ${mib(m.all)}`);
}
await context.close();
server.stop();
