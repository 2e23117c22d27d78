// Browser glue called from Rust (src/web/mod.rs): pixels from any image source, model downloads with
// progress, and the gallery's storage (IndexedDB, with a copy in Cache Storage). Kept small: everything else
// is Rust.

let canvas = null;

/** An Error with a stable `name` (listed in index.d.ts; the Rust side's come from `ErrorKind::name`). */
function namedError(name, message) {
  return Object.assign(new Error(message), { name });
}

/** Throws InputInvalid for an empty image, or one larger than the core takes (src/frame.rs: MAX_SIDE a side,
 *  MAX_PIXELS in all), before any pixel is read. */
function checkSize(width, height) {
  if (!(width > 0 && height > 0)) throw namedError('InputInvalid', 'empty image (' + width + 'x' + height + ')');
  if (width > 16384 || height > 16384 || width * height > 64 * 1024 * 1024) {
    throw namedError('InputInvalid', 'image of ' + width + 'x' + height + ' is too large');
  }
}

/** The RGBA pixels of an ImageData, video, canvas, image, ImageBitmap or VideoFrame, as ImageData. */
export function toImageData(source) {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return source;
  let width, height;
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    if (source.readyState < 2) throw namedError('InputInvalid', 'the video has no frame yet (readyState ' + source.readyState + ')');
    width = source.videoWidth; height = source.videoHeight;
  } else if (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame) {
    width = source.displayWidth; height = source.displayHeight;
  } else if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    width = source.naturalWidth; height = source.naturalHeight;
  } else if (source && typeof source.width === 'number' && typeof source.height === 'number'
             && (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap
                 || typeof HTMLCanvasElement !== 'undefined' && source instanceof HTMLCanvasElement
                 || typeof OffscreenCanvas !== 'undefined' && source instanceof OffscreenCanvas)) {
    width = source.width; height = source.height;
  } else {
    throw namedError('InputInvalid', 'unsupported image source: give an ImageData, HTMLVideoElement, HTMLCanvasElement, '
      + 'HTMLImageElement, ImageBitmap or VideoFrame');
  }
  checkSize(width, height);
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

// A VideoFrame (a camera frame, transferred to the worker as is) skips toImageData's canvas: the browser
// converts it to RGBA straight into wasm memory, one copy instead of three (src/web/mod.rs, frame_of).
const RGBA = { format: 'RGBA', colorSpace: 'srgb' };

/** [width, height] of a VideoFrame that copyVideoFrame can read; null for any other source, and for a frame
 *  that toImageData must draw: one shown at another size than it is stored (copyTo does not scale), or one
 *  this browser cannot convert to RGBA (one that ignores `format` sizes the copy in the frame's own format). */
export function videoFrameSize(source) {
  if (typeof VideoFrame === 'undefined' || !(source instanceof VideoFrame)) return null;
  const { displayWidth: width, displayHeight: height, visibleRect } = source;
  checkSize(width, height);
  if (visibleRect.width !== width || visibleRect.height !== height) return null;
  try {
    return source.allocationSize(RGBA) === width * height * 4 ? [width, height] : null;
  } catch {
    return null;
  }
}

/** Copies a VideoFrame's pixels as RGBA into `into`, a view of wasm memory. Resolves to null once they are
 *  there; or, when wasm memory grew during the copy (which detaches the view, so the pixels may not have
 *  landed), to the pixels copied again into an array of their own, for the caller to copy in. */
export async function copyVideoFrame(frame, into) {
  const length = into.byteLength;
  try {
    await frame.copyTo(into, RGBA);
    if (into.byteLength === length) return null;
    const pixels = new Uint8Array(length);
    await frame.copyTo(pixels, RGBA);
    return pixels;
  } catch (e) {
    // Such as a frame closed while the call was pending.
    throw namedError('InputInvalid', 'cannot read the video frame: ' + ((e && e.message) || e));
  }
}

// The package's models are kept in Cache Storage once downloaded and checked, so that a second visit (or an
// offline one) needs no download. Only models checked against their sha256 are kept: a user's own, at an
// address that may change, are left to the HTTP cache. The cache is keyed by the model's address.
const MODEL_CACHE = 'localface-models';

async function modelCache() {
  if (typeof caches === 'undefined') return null;
  try { return await caches.open(MODEL_CACHE); } catch { return null; }
}

/** A kept model's bytes, reported as loaded whole ({ file, loaded, total, cached: true }); null where there is
 *  none (or no Cache Storage: Node.js, an insecure page). */
export async function cachedModel(url, file, onProgress) {
  const cache = await modelCache();
  try {
    const response = cache && await cache.match(url);
    if (!response) return null;
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (onProgress) onProgress({ file, loaded: bytes.length, total: bytes.length, cached: true });
    return bytes;
  } catch {
    return null;
  }
}

/** Keeps a checked model; a full quota or a refused cache only costs a download next time. */
export async function keepModel(url, bytes) {
  const cache = await modelCache();
  try {
    if (cache) await cache.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
  } catch { /* not kept */ }
}

/** Drops a kept model that failed its check (a corrupt copy, or an older version at the same address). */
export async function forgetModel(url) {
  const cache = await modelCache();
  try { if (cache) await cache.delete(url); } catch { /* already gone */ }
}

/** Downloads a file as bytes, reporting { file, loaded, total } as it arrives. */
export async function fetchBytes(url, file, onProgress) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw namedError('ModelFetchFailed', `cannot load ${url}: ${(e && e.message) || e}`);
  }
  if (!response.ok) throw namedError('ModelFetchFailed', `cannot load ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (onProgress) onProgress({ file, loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return bytes;
}

// The gallery is stored twice. IndexedDB holds it (one record per key, with a generation number beside it
// under the array key [key, 'generation'], which no string key can collide with). Cache Storage holds a copy
// of each save under its generation, because Chromium deletes an origin's whole IndexedDB when it finds it
// corrupt on opening, and a browser killed in the middle of a write leaves it so about once in a hundred
// kills (measured). The two are written one after the other, so a kill can catch at most one of them in the
// middle; loading takes whichever copy is newer.
const STORE = 'galleries';
const CACHE = 'localface-galleries';

function openDb(dbName) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') { reject(namedError('StorageFailed', 'IndexedDB is not available here')); return; }
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = (event) => {
      // Chromium's sign that it found the database corrupt and started it afresh.
      if (event.dataLoss === 'total') {
        console.warn(`localface: the browser reset its IndexedDB storage (${event.dataLossMessage})`);
      }
      req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(namedError('StorageFailed', 'cannot open IndexedDB: ' + (req.error && req.error.message)));
    req.onblocked = () => reject(namedError('StorageFailed', 'IndexedDB is blocked by another tab'));
  });
}

/** `{ bytes, generation }` stored in IndexedDB under `key`, or null. Galleries stored before generations
 *  were kept count as generation 0. */
async function readRecord(dbName, key) {
  const db = await openDb(dbName);
  try {
    return await new Promise((resolve, reject) => {
      const store = db.transaction(STORE, 'readonly').objectStore(STORE);
      const bytes = store.get(key);
      const generation = store.get([key, 'generation']);
      generation.onsuccess = () => resolve(bytes.result
        ? { bytes: new Uint8Array(bytes.result), generation: generation.result || 0 } : null);
      bytes.onerror = generation.onerror = (e) => {
        reject(namedError('StorageFailed', 'cannot read the gallery: ' + (e.target.error && e.target.error.message)));
      };
    });
  } finally {
    db.close();
  }
}

/** Stores `bytes` under `key` with a generation above both `floor` and the stored one, in one durable
 *  transaction (the old record or the new one, never a mix). Resolves to the generation. */
async function writeRecord(dbName, key, bytes, floor) {
  const db = await openDb(dbName);
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
      const store = tx.objectStore(STORE);
      let generation = 0;
      const current = store.get([key, 'generation']);
      current.onsuccess = () => {
        generation = Math.max(current.result || 0, floor) + 1;
        store.put(bytes, key);
        store.put(generation, [key, 'generation']);
      };
      tx.oncomplete = () => resolve(generation);
      const fail = () => {
        const e = tx.error;
        reject(e && e.name === 'QuotaExceededError'
          ? namedError('StorageFull', 'storage quota exceeded: the gallery was not saved (the stored one is unchanged)')
          : namedError('StorageFailed', 'cannot save the gallery: ' + (e && e.message)));
      };
      tx.onerror = fail;
      tx.onabort = fail;
    });
  } finally {
    db.close();
  }
}

/** The Cache Storage copies of `key`, newest first, as { request, generation }; none where Cache Storage is
 *  missing (an insecure page) or refused (some private modes). */
async function copies(dbName, key) {
  if (typeof caches === 'undefined') return { cache: null, list: [] };
  let cache;
  try { cache = await caches.open(CACHE); } catch { return { cache: null, list: [] }; }
  const prefix = copyPath(dbName, key);
  const list = [];
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith(prefix)) list.push({ request, generation: Number(path.slice(prefix.length)) });
  }
  return { cache, list: list.sort((a, b) => b.generation - a.generation) };
}

/** Where the copies of `key` live: `/_<database>/_<key>/`, each name percent-encoded behind a prefix, since
 *  a URL resolves a segment of '.' or '..' (even encoded) away. The generation follows. */
function copyPath(dbName, key) {
  return `/_${encodeURIComponent(dbName)}/_${encodeURIComponent(key)}/`;
}

/** The newest copy above generation `above` that reads whole, as { bytes, generation }, or null. Only the
 *  list is read otherwise: a copy no newer than the record is never loaded. */
async function readCopy({ cache, list }, above) {
  for (const { request, generation } of list) {
    if (generation <= above) break;
    try {
      const response = await cache.match(request);
      if (response) return { bytes: new Uint8Array(await response.arrayBuffer()), generation };
    } catch { /* a copy cut short: try the one before */ }
  }
  return null;
}

/** The stored gallery, the newer of the two copies, as { bytes, restored }, or null. `restored` says why the
 *  copy in Cache Storage was read instead of IndexedDB, or is null when IndexedDB had the gallery. */
export async function loadGallery(dbName, key) {
  const stored = await copies(dbName, key).catch(() => ({ cache: null, list: [] }));
  let record;
  try {
    record = await readRecord(dbName, key);
  } catch (e) {
    const copy = await readCopy(stored, -1);
    if (!copy) throw e;
    return restoredFrom(dbName, key, copy, `IndexedDB could not be read (${e.message})`);
  }
  const copy = await readCopy(stored, record ? record.generation : -1);
  if (copy) {
    return restoredFrom(dbName, key, copy, record ? 'IndexedDB held an older gallery than its copy'
      : 'IndexedDB had lost the gallery (the browser may have reset it)');
  }
  return record ? { bytes: record.bytes, restored: null } : null;
}

/** `copy` as loadGallery's answer, written back to IndexedDB first so that the next load finds it there. */
async function restoredFrom(dbName, key, copy, why) {
  console.warn(`localface: ${why}; the gallery is read from its copy in Cache Storage`);
  try {
    await saveGallery(dbName, key, copy.bytes);
  } catch (e) {
    why += `; writing it back to IndexedDB failed (${e.message})`;
  }
  return { bytes: copy.bytes, restored: why };
}

/** Stores the gallery bytes: IndexedDB first (its failure, such as the quota exceeded, rejects and changes
 *  nothing), then the copy in Cache Storage (whose failure only warns). Resolves once both are written. */
export async function saveGallery(dbName, key, bytes) {
  // `bytes` views WebAssembly memory: copy it now, since memory growing during the await detaches the view.
  const copy = bytes.slice();
  // Above every copy's generation too: after Chromium resets IndexedDB, its count starts again at 0.
  const older = await copies(dbName, key).catch(() => ({ cache: null, list: [] }));
  const floor = older.list.length ? older.list[0].generation : 0;
  const generation = await writeRecord(dbName, key, copy.buffer, floor);
  if (!older.cache) return;
  try {
    await older.cache.put(new URL(copyPath(dbName, key) + generation, self.location.origin), new Response(copy));
    // Only once the new copy is whole: the older ones go.
    for (const { request, generation: g } of older.list) if (g < generation) await older.cache.delete(request);
  } catch (e) {
    console.warn('localface: the gallery is saved in IndexedDB, but its copy in Cache Storage is not: ' + e.message);
  }
}

// Encryption at rest (WebCrypto): the Rust side builds and checks the file format (src/gallery/sealed.rs);
// these are the primitives. Byte arguments view WebAssembly memory: each is copied before the first await.

/** AES-256-GCM key from a passphrase: PBKDF2-HMAC-SHA256. */
export async function deriveKey(passphrase, salt, iterations) {
  const saltCopy = salt.slice();
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: saltCopy, iterations }, material,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export async function encrypt(key, nonce, aad, plain) {
  const params = { name: 'AES-GCM', iv: nonce.slice(), additionalData: aad.slice() };
  return new Uint8Array(await crypto.subtle.encrypt(params, key, plain.slice()));
}

/** Rejects when the tag does not check out: a wrong passphrase or a changed file. */
export async function decrypt(key, nonce, aad, ciphertext) {
  const params = { name: 'AES-GCM', iv: nonce.slice(), additionalData: aad.slice() };
  try {
    return new Uint8Array(await crypto.subtle.decrypt(params, key, ciphertext.slice()));
  } catch {
    throw namedError('GalleryLocked', 'wrong passphrase, or the encrypted gallery was altered');
  }
}

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

// `backend: 'auto'` times the embedder on the GPU and the CPU once per browser, adapter and model, and keeps
// what it chose in a database of its own (not the galleries'): losing it costs one more timing, nothing else.
const CHOICES_DB = 'localface-choices';
const CHOICES = 'choices';

/** What identifies this browser and its WebGPU adapter (the one `auto` would use), or null without one. */
export async function adapterKey() {
  if (typeof navigator === 'undefined' || !navigator.gpu) return null;
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const info = adapter.info || {};
  return [navigator.userAgent, info.vendor, info.architecture, info.device, info.description].join('|');
}

function openChoices() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') { reject(new Error('no IndexedDB')); return; }
    const req = indexedDB.open(CHOICES_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(CHOICES);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function choices(mode, use) {
  const db = await openChoices();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(CHOICES, mode);
      const req = use(tx.objectStore(CHOICES));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The choice remembered under `key` (a JSON string), or null: storage that fails only costs a timing. */
export async function loadChoice(key) {
  try {
    return (await choices('readonly', (store) => store.get(key))) ?? null;
  } catch (e) {
    console.warn('localface: cannot read the remembered backend choice: ' + (e && e.message));
    return null;
  }
}

export async function saveChoice(key, value) {
  try {
    await choices('readwrite', (store) => store.put(value, key));
  } catch (e) {
    console.warn('localface: cannot remember the backend choice: ' + (e && e.message));
  }
}
