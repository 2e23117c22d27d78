// Browser glue called from Rust (src/web/mod.rs): pixels from any image source, model downloads with
// progress, and the gallery's storage in IndexedDB. Kept small: everything else is Rust.

let canvas = null;

/** The RGBA pixels of an ImageData, video, canvas, image, ImageBitmap or VideoFrame, as ImageData. */
export function toImageData(source) {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return source;
  let width, height;
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    if (source.readyState < 2) throw new Error('the video has no frame yet (readyState ' + source.readyState + ')');
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
    throw new Error('unsupported image source: give an ImageData, HTMLVideoElement, HTMLCanvasElement, '
      + 'HTMLImageElement, ImageBitmap or VideoFrame');
  }
  if (!(width > 0 && height > 0)) throw new Error('empty image (' + width + 'x' + height + ')');
  if (width > 16384 || height > 16384) throw new Error('image of ' + width + 'x' + height + ' is too large');
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

/** Downloads a file as bytes, reporting { file, loaded, total } as it arrives. */
export async function fetchBytes(url, file, onProgress) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
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

const STORE = 'galleries';

function openDb(dbName) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') { reject(new Error('IndexedDB is not available here')); return; }
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error('cannot open IndexedDB: ' + (req.error && req.error.message)));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

/** The stored gallery bytes, or null. */
export async function loadGallery(dbName, key) {
  const db = await openDb(dbName);
  try {
    return await new Promise((resolve, reject) => {
      const req = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
      req.onsuccess = () => resolve(req.result ? new Uint8Array(req.result) : null);
      req.onerror = () => reject(new Error('cannot read the gallery: ' + (req.error && req.error.message)));
    });
  } finally {
    db.close();
  }
}

/** Stores the gallery bytes in one transaction: the old value or the new one, never a mix. Resolves once
 *  the write is durable; rejects (and stores nothing) when the quota is exceeded. */
export async function saveGallery(dbName, key, bytes) {
  // `bytes` views WebAssembly memory: copy it now, since memory growing during the await detaches the view.
  const copy = bytes.slice().buffer;
  const db = await openDb(dbName);
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
      tx.objectStore(STORE).put(copy, key);
      tx.oncomplete = () => resolve();
      const fail = () => {
        const e = tx.error;
        reject(new Error(e && e.name === 'QuotaExceededError'
          ? 'storage quota exceeded: the gallery was not saved (the stored one is unchanged)'
          : 'cannot save the gallery: ' + (e && e.message)));
      };
      tx.onerror = fail;
      tx.onabort = fail;
    });
  } finally {
    db.close();
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
    throw new Error('wrong passphrase, or the encrypted gallery was altered');
  }
}

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}
