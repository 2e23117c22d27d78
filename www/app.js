// The demo page: live recognition from the camera, enrolment, the gallery. Everything runs in this browser:
// the recognizer lives in a Web Worker (RecognizerWorker), the gallery in IndexedDB.
import init, { RecognizerWorker } from './pkg/index.js';
import * as liveness from './liveness.js';

const $ = (id) => document.getElementById(id);
const video = $('video');
const overlay = $('overlay');
const ctx = overlay.getContext('2d');

// State the end-to-end tests read (window.localface); nothing here leaves the page.
const state = (window.localface = {
  ready: false, running: false, frames: 0, fps: 0, faces: [], backend: null, error: null,
  firstRecognizedMs: null, people: [], locked: false,
  // Milliseconds spent in the worker's calls of the live loop (frame transfer included); `frames` counts them.
  recognizeMs: 0,
  // The liveness check (liveness.js): whether it is offered, and how the last one went.
  liveness: liveness.check,
});

let recognizer = null;
let stream = null;
// The gallery's passphrase, when the user gives one: kept in memory for this visit only.
let passphrase = null;

function say(text, kind = 'info', ms = 6000) {
  const div = document.createElement('div');
  div.className = 'message ' + kind;
  div.textContent = text;
  $('messages').append(div);
  if (ms) setTimeout(() => div.remove(), ms);
  return div;
}

function progress({ file, loaded, total }) {
  $('progress').hidden = false;
  const pct = total ? Math.round((100 * loaded) / total) : 0;
  $('progress-bar').style.width = pct + '%';
  $('progress-text').textContent = `loading ${file} ${total ? pct + '%' : Math.round(loaded / 1024) + ' KiB'}`;
}

async function gpuAvailable() {
  if (!navigator.gpu) return false;
  try {
    return (await navigator.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

const params = new URLSearchParams(location.search);

async function load() {
  try {
    // ?simd=plain forces the plain SIMD build (for comparing it with the relaxed-SIMD one).
    const initOptions = { noRelaxedSimd: params.get('simd') === 'plain' };
    await init(initOptions);
    // ?backend=gpu|cpu overrides the automatic choice (a hardware GPU if there is one, else the CPU).
    const backend = params.get('backend') || 'auto';
    const options = { backend, onProgress: progress, ...(passphrase ? { passphrase } : {}), ...embedderOptions() };
    if (recognizer) recognizer.terminate();
    recognizer = null;
    recognizer = await RecognizerWorker.create(options, initOptions);
    state.wasmMemoryBytes = () => recognizer.memoryBytes();
  } catch (e) {
    state.error = String(e.message || e);
    // Errors carry a stable name (see pkg/index.d.ts): a locked gallery asks for its passphrase.
    if (e.name === 'GalleryLocked') {
      state.locked = true;
      $('progress').hidden = true;
      $('lock').textContent = 'Unlock';
      $('lock').disabled = false;
      $('lock-state').textContent = 'locked';
      $('backend').textContent = 'gallery locked';
      say(passphrase ? 'Wrong passphrase: the gallery stays locked.' : 'The stored gallery is encrypted: enter its passphrase and unlock it.', 'warn', 0);
      return;
    }
    say('Could not load the recognizer: ' + state.error, 'error', 0);
    return;
  }
  state.error = null;
  state.locked = false;
  showLock();
  $('progress').hidden = true;
  state.kernels = recognizer.kernels;
  state.embedder = $('embedder').value;
  state.threshold = recognizer.threshold;
  showBackend();
  if (recognizer.galleryRestored) {
    say(`Your gallery was restored from its copy in this browser's Cache Storage: ${recognizer.galleryRestored}.`, 'info', 0);
  }
  const choice = recognizer.backendChoice;
  if (recognizer.backend !== 'gpu' && choice && choice.gpuMs !== null) {
    // auto timed both and the CPU won: nothing is wrong, so this is news, not a warning.
    say(`The CPU is faster than WebGPU on this machine (a face took ${choice.cpuMs.toFixed(1)} ms on the CPU, `
      + `${choice.gpuMs.toFixed(1)} ms on the GPU): recognition runs on the CPU (WebAssembly SIMD).`, 'info');
  } else if (recognizer.backend !== 'gpu') {
    const why = (await gpuAvailable())
      ? `WebGPU could not be used (${recognizer.fallbackReason ?? 'unknown reason'})`
      : 'WebGPU is not available in this browser';
    say(why + ': recognition runs on the CPU (WebAssembly SIMD).', 'warn');
  }
  for (const id of ['start', 'capture', 'export']) $(id).disabled = false;
  await offerLivenessCheck();
  await refreshPeople();
  // Ready only once the gallery shown is this recognizer's (a reload for another embedder swaps it).
  state.ready = true;
  if (params.get('camera') === 'on') startCamera();
}

/** The embedder chosen (?embedder= or the list): fr_feature, an optional model served beside the page, keeps
 *  its own stored gallery, as a gallery refuses another embedder's embeddings. */
function embedderOptions() {
  const embedder = $('embedder').value;
  if (embedder === 'MobileFaceNet') return {};
  return { embedder, embedderUrl: new URL('optional-models/fr_feature.onnx', location.href).href, gallery: embedder };
}

/** Offers fr_feature where it is served, and reloads the recognizer when the embedder changes. */
async function offerEmbedders() {
  const served = await fetch('optional-models/fr_feature.onnx', { method: 'HEAD' }).then((r) => r.ok, () => false);
  $('embedder').querySelector('[value=fr_feature]').disabled = !served;
  if (served && params.get('embedder') === 'fr_feature') $('embedder').value = 'fr_feature';
  $('embedder').onchange = async () => {
    const wasRunning = state.running;
    if (wasRunning) stopCamera();
    state.ready = false;
    await load();
    if (wasRunning && state.ready) startCamera();
  };
}

/** Shows where the networks run; says so once if the GPU failed and the CPU took over. */
function showBackend() {
  if (state.backend === 'gpu' && recognizer.backend === 'cpu') {
    say(`The GPU failed (${recognizer.fallbackReason}): recognition goes on on the CPU.`, 'warn', 0);
  }
  state.backend = recognizer.backend;
  $('backend').textContent = recognizer.backend === 'gpu' ? 'WebGPU' : `CPU · ${recognizer.kernels}`;
  // Why, on hover: what auto measured (or remembered), or that the backend was asked for by name.
  const choice = recognizer.backendChoice;
  $('backend').title = choice
    ? `Chosen automatically: ${choice.reason}${choice.remembered ? ' (timed on an earlier visit)' : ''}`
    : 'Where the networks run (asked for in the address: ?backend=)';
}

/** The gallery's encryption, as the recognizer reports it. */
function showLock() {
  $('lock').disabled = recognizer.encrypted;
  $('lock').textContent = recognizer.encrypted ? 'Encrypted' : 'Encrypt gallery';
  $('lock-state').textContent = recognizer.encrypted ? 'stored encrypted' : 'stored in plain';
}

/** Unlocks an encrypted gallery, or encrypts a plain one, with the passphrase typed in. */
async function lock() {
  const typed = $('passphrase').value;
  if (!typed) {
    say('Type a passphrase first.', 'warn');
    return;
  }
  const [wasRunning, wasLocked] = [state.running, state.locked];
  if (wasRunning) stopCamera();
  passphrase = typed;
  $('passphrase').value = '';
  $('lock').disabled = true;
  state.ready = false;
  await load();
  if (!state.locked) say(wasLocked ? 'Gallery unlocked.' : 'The gallery is now stored encrypted with your passphrase.', 'info');
  if (wasRunning && state.ready) startCamera();
}

async function startCamera() {
  if (stream) return;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    const why = {
      NotAllowedError: 'Camera access was denied. Allow it in the site settings to recognise faces live; you can still enroll from photos.',
      NotFoundError: 'No camera was found. Connect one, or enroll from photos.',
      NotReadableError: 'The camera is in use by another application.',
      OverconstrainedError: 'The camera cannot give a usable picture.',
    }[e.name] || 'The camera could not start: ' + e.message;
    state.error = why;
    say(why, 'error', 0);
    return;
  }
  video.srcObject = stream;
  await video.play();
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
  $('placeholder').hidden = true;
  $('start').disabled = true;
  $('stop').disabled = false;
  state.running = true;
  // A new video: the tracks of the last one (if any) mean nothing in it.
  await recognizer.resetTracks();
  loop();
}

function stopCamera() {
  state.running = false;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  video.srcObject = null;
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  $('placeholder').hidden = false;
  $('start').disabled = false;
  $('stop').disabled = true;
  $('fps').textContent = '– fps';
}

function nextFrame() {
  return new Promise((resolve) => {
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

/** The video's current frame, to be transferred to the worker: a VideoFrame where the browser has them (it
 *  wraps the decoded frame without copying pixels, and the worker copies it once, straight into wasm memory),
 *  else an ImageBitmap. */
async function grabFrame() {
  return typeof VideoFrame !== 'undefined' ? new VideoFrame(video) : createImageBitmap(video);
}

// One frame in flight at a time: grab, recognise in the worker, draw, repeat.
async function loop() {
  let windowStart = performance.now();
  let windowFrames = 0;
  while (state.running) {
    await nextFrame();
    // The liveness check has the camera's frames while it runs.
    if (!state.running || video.readyState < 2 || liveness.check.running) continue;
    let faces;
    let frame = null;
    try {
      frame = await grabFrame();
      const start = performance.now();
      // Tracking: faces keep their ids and names between frames; the worker detects and embeds only when
      // needed. ?live=identify runs the whole pipeline on every frame instead (for measuring the two).
      faces = await (params.get('live') === 'identify' ? recognizer.identify(frame) : recognizer.track(frame));
      state.recognizeMs += performance.now() - start;
    } catch (e) {
      say('Recognition failed: ' + e.message, 'error');
      continue;
    } finally {
      // A frame sent to the worker is closed already (transferred); this is for one that failed before it
      // went: a camera has few frame buffers, and one left open until garbage collection can stall the video.
      if (frame) frame.close();
    }
    if (recognizer.backend !== state.backend) showBackend();
    state.frames += 1;
    state.faces = faces;
    // Names only after a liveness check, when the page is asked to (a photo held up stays unnamed).
    if ($('check-before-naming').checked && !liveness.passedRecently()) {
      faces = faces.map((f) => ({ ...f, name: null, similarity: null }));
      state.faces = faces;
    }
    if (state.firstRecognizedMs === null && faces.some((f) => f.name)) state.firstRecognizedMs = performance.now();
    draw(faces);
    windowFrames += 1;
    const now = performance.now();
    if (now - windowStart >= 1000) {
      state.fps = (1000 * windowFrames) / (now - windowStart);
      $('fps').textContent = state.fps.toFixed(1) + ' fps';
      windowStart = now;
      windowFrames = 0;
    }
    $('status').textContent = faces.length
      ? faces.map((f) => (f.name ?? 'unknown') + (f.similarity != null ? ` (${f.similarity.toFixed(2)})` : '')).join(', ')
      : 'no face';
  }
}

function draw(faces) {
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  const line = Math.max(2, overlay.width / 320);
  ctx.font = `600 ${Math.max(14, overlay.width / 40)}px system-ui, sans-serif`;
  for (const f of faces) {
    const known = !!f.name;
    const color = known ? '#4fd1a5' : '#f2b95b';
    const { x, y, width, height } = f.box;
    ctx.strokeStyle = color;
    ctx.lineWidth = line;
    ctx.strokeRect(x, y, width, height);
    ctx.fillStyle = color;
    for (const p of f.landmarks) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, line * 1.2, 0, 2 * Math.PI);
      ctx.fill();
    }
    const label = (f.name ?? 'unknown') + (f.similarity != null ? ` ${f.similarity.toFixed(2)}` : '');
    const w = ctx.measureText(label).width + 12;
    const h = parseInt(ctx.font.match(/(\d+)px/)[1], 10) + 8;
    const ly = y - h - 2 > 0 ? y - h - 2 : y + height + 2;
    ctx.fillRect(x - line / 2, ly, w, h);
    ctx.fillStyle = '#07231a';
    ctx.fillText(label, x + 6, ly + h - 7);
  }
}

async function refreshPeople() {
  const people = await recognizer.gallery.people();
  state.people = people;
  $('people-count').textContent = people.length ? String(people.length) : '';
  const list = $('people');
  list.replaceChildren();
  if (!people.length) {
    list.innerHTML = '<li class="empty">No one enrolled yet.</li>';
    return;
  }
  for (const p of people) {
    const li = document.createElement('li');
    const who = Object.assign(document.createElement('span'), { className: 'who', textContent: p.name, title: p.name });
    const samples = Object.assign(document.createElement('span'), {
      className: 'samples', textContent: `${p.samples} shot${p.samples === 1 ? '' : 's'}`,
    });
    const rename = Object.assign(document.createElement('button'), { className: 'small secondary', textContent: 'Rename' });
    const remove = Object.assign(document.createElement('button'), { className: 'small secondary', textContent: 'Delete' });
    rename.onclick = () => startRename(li, who, p.name);
    remove.onclick = async () => {
      if (!confirm(`Delete ${p.name} and all their shots?`)) return;
      await act(() => recognizer.gallery.remove(p.name), `${p.name} deleted`);
    };
    li.append(who, samples, rename, remove);
    list.append(li);
  }
}

function startRename(li, who, name) {
  const input = Object.assign(document.createElement('input'), { value: name, className: 'who' });
  who.replaceWith(input);
  input.focus();
  input.select();
  const done = async (save) => {
    input.onblur = null;
    const to = input.value.trim();
    if (save && to && to !== name) await act(() => recognizer.gallery.rename(name, to), `${name} is now ${to}`);
    else await refreshPeople();
  };
  input.onkeydown = (e) => { if (e.key === 'Enter') done(true); if (e.key === 'Escape') done(false); };
  input.onblur = () => done(true);
}

/** Runs a gallery change, reports it, refreshes the list. */
async function act(change, success) {
  try {
    await change();
    if (success) say(success);
  } catch (e) {
    say(e.message, 'error');
  }
  await refreshPeople();
}

function nameOrWarn() {
  const name = $('name').value.trim();
  if (!name) {
    say('Type a name first.', 'warn');
    $('name').focus();
  }
  return name;
}

async function captureShots() {
  const name = nameOrWarn();
  if (!name) return;
  if (!stream) {
    say('Start the camera first, or enroll from photos.', 'warn');
    return;
  }
  if (liveness.check.available && $('check-before-enroll').checked && !liveness.passedRecently()) {
    say('Check liveness first: a photo held to the camera must not be enrolled as a person.', 'warn');
    return;
  }
  $('capture').disabled = true;
  // Three good shots, a third of a second apart; frames without exactly one face are skipped (up to 8 tries).
  let taken = 0;
  let last = null;
  for (let attempt = 0; attempt < 8 && taken < 3; attempt++) {
    let frame = null;
    try {
      frame = await grabFrame();
      await recognizer.enroll(name, frame);
      taken += 1;
    } catch (e) {
      // A frame without exactly one face is skipped; anything else is worth showing as it is.
      last = { NoFace: 'no face in view', ManyFaces: 'more than one face in view' }[e.name] || e.message;
      // A poor shot says how to make a better one: show it at once, while the person can still act on it.
      if (e.name === 'PoorShot') say(e.message.replace(/^a poor shot: /, 'Hold on: '), 'warn');
    } finally {
      if (frame) frame.close();
    }
    await new Promise((r) => setTimeout(r, 350));
  }
  if (taken < 3) say(`Only ${taken} of 3 shots taken${last ? ': ' + last : ''}. Face the camera alone.`, 'warn');
  $('capture').disabled = false;
  if (taken) say(`${name}: ${taken} shot${taken === 1 ? '' : 's'} enrolled`);
  await refreshPeople();
}

/** Offers the liveness check where its optional models are served. */
async function offerLivenessCheck() {
  if (await liveness.probe()) {
    $('check').disabled = false;
    return;
  }
  $('check').title = 'Needs fr_liveness.onnx, fr_landmark.onnx, fr_eye.onnx and fr_pose.onnx: run scripts/fetch-models.sh, then build again';
  $('check-state').textContent = 'models not installed';
}

/** The liveness check on the camera: the instructions in the status line, the outcome in a message. */
async function checkLiveness() {
  if (!stream) {
    say('Start the camera first.', 'warn');
    return;
  }
  $('check').disabled = true;
  $('check-state').textContent = 'checking…';
  const grab = async () => {
    await nextFrame();
    return grabFrame();
  };
  const show = (text) => { $('status').textContent = text; };
  const result = await liveness.run(recognizer, grab, show);
  $('check').disabled = false;
  if (result.state === 'passed') {
    $('check-state').textContent = 'passed';
    say('Liveness check passed: a live person is in front of the camera.', 'info');
  } else {
    $('check-state').textContent = 'failed';
    say('Liveness check failed: ' + result.reason + '.', 'warn');
  }
}

async function enrollPhotos(files) {
  const name = nameOrWarn();
  if (!name) return;
  let taken = 0;
  for (const file of files) {
    try {
      await recognizer.enroll(name, await createImageBitmap(file, { imageOrientation: 'from-image' }));
      taken += 1;
    } catch (e) {
      say(`${file.name}: ${e.message}`, 'warn');
    }
  }
  if (taken) say(`${name}: ${taken} photo${taken === 1 ? '' : 's'} enrolled`);
  await refreshPeople();
}

async function exportGallery() {
  const bytes = await recognizer.gallery.export();
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: 'localface-gallery.lfg' });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function importGallery(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  await act(() => recognizer.gallery.import(bytes), `Gallery imported from ${file.name}`);
}

$('start').onclick = startCamera;
$('stop').onclick = stopCamera;
$('capture').onclick = captureShots;
$('check').onclick = checkLiveness;
$('photos').onchange = (e) => { enrollPhotos([...e.target.files]); e.target.value = ''; };
$('export').onclick = exportGallery;
$('lock').onclick = lock;
$('import').onchange = (e) => { if (e.target.files[0]) importGallery(e.target.files[0]); e.target.value = ''; };
// Offline after one visit (sw.js). Where there is no service worker (an insecure page), online only.
navigator.serviceWorker?.register('sw.js').catch((e) => console.warn('no offline copy:', e.message));
offerEmbedders().then(load);
