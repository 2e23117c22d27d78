// RecognizerWorker: the Recognizer's API, run in a Web Worker so the page stays responsive. Frames are sent
// as ImageBitmap or VideoFrame (transferred, not copied). If the WebAssembly instance ever traps, the worker
// is replaced by a fresh one (the gallery reloads from IndexedDB) and the call fails with a clear error.

/** An Error with a stable `name` (listed in index.d.ts). */
function named(name, message) {
  return Object.assign(new Error(message), { name });
}

function transferable(x) {
  return (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap)
    || (typeof VideoFrame !== 'undefined' && x instanceof VideoFrame);
}

/** Turns any frame source into something a worker can receive: ImageData and encoded bytes (Uint8Array) as
 *  they are, others as an ImageBitmap. */
async function sendable(source) {
  if (transferable(source) || (typeof ImageData !== 'undefined' && source instanceof ImageData)) return source;
  if (source instanceof Uint8Array) return source;
  return await createImageBitmap(source);
}

export class RecognizerWorker {
  /** Starts the worker and creates the recognizer in it (same options as Recognizer.create). */
  static async create(options = {}, initOptions = {}) {
    const rw = new RecognizerWorker(options, initOptions);
    rw._ready = rw._start();
    await rw._ready;
    return rw;
  }

  constructor(options, initOptions) {
    const { onProgress, ...rest } = options;
    this._options = rest;
    this._initOptions = initOptions;
    this._onProgress = onProgress;
    this._pending = new Map();
    this._next = 1;
    this.backend = null;
    this.fallbackReason = null;
    this.backendChoice = null;
    this.kernels = null;
    this.threshold = null;
    this.galleryRestored = null;
    this.restarts = 0;
    this.gallery = {
      people: () => this._call('gallery.people', []),
      rename: (from, to) => this._call('gallery.rename', [from, to]),
      remove: (name) => this._call('gallery.remove', [name]),
      clear: () => this._call('gallery.clear', []),
      export: () => this._call('gallery.export', []),
      import: (bytes) => this._call('gallery.import', [bytes]),
    };
  }

  async _start() {
    // Written out whole, as bundlers (Vite, webpack) recognise it to bundle the worker: an address kept in a
    // variable would make them copy worker.js as a plain file, unbundled.
    this._worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this._worker.onmessage = ({ data }) => this._answer(data);
    // A script that cannot be loaded gives an error event without a message: say which script it was.
    this._worker.onerror = (e) => this._failAll(named('WorkerFailed', e.message
      ? 'the recognizer worker failed: ' + e.message
      : 'the recognizer worker could not be started: its script (the package\'s worker.js) did not load'));
    // A URL object cannot be sent to a worker: send its address.
    const { wasmUrl } = this._initOptions;
    const initOptions = { ...this._initOptions, ...(wasmUrl instanceof URL ? { wasmUrl: wasmUrl.href } : {}) };
    const info = await this._call('create', [this._options, initOptions], true);
    Object.assign(this, info);
    // A replaced worker gets the liveness models its predecessor had (not a challenge under way: its frames
    // went with the old worker; challengeFrame says so and the app starts another).
    if (this._liveness) await this._call('loadLiveness', [this._liveness], true);
    if (this._challenge) await this._call('loadChallenge', this._challenge, true);
  }

  _answer(data) {
    if (data.progress) {
      if (this._onProgress) this._onProgress(data.progress);
      return;
    }
    const pending = this._pending.get(data.id);
    if (!pending) return;
    this._pending.delete(data.id);
    if (data.error === undefined) {
      this.backend = data.backend;
      this.fallbackReason = data.fallbackReason ?? null;
      pending.resolve(data.result);
      return;
    }
    if (data.crashed) {
      this._restart();
      pending.reject(named('RecognizerCrashed', 'the recognizer crashed and was restarted: ' + data.error));
    } else {
      pending.reject(named(data.name, data.error));
    }
  }

  _failAll(error) {
    for (const p of this._pending.values()) p.reject(error);
    this._pending.clear();
  }

  _restart() {
    this.restarts += 1;
    this._worker.terminate();
    this._failAll(named('RecognizerCrashed', 'the recognizer was restarted'));
    this._ready = this._start();
    // Its failure is every later call's (they wait for it), not an unhandled rejection.
    this._ready.catch(() => {});
  }

  async _call(method, args, starting = false) {
    // After a restart, calls wait for the fresh worker's recognizer (the worker would refuse them before it);
    // the worker's start itself (`starting`) does not.
    if (!starting) await this._ready;
    if (!this._worker) throw named('RecognizerClosed', 'the recognizer worker is closed');
    const id = this._next++;
    const transfer = args.filter(transferable);
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._worker.postMessage({ id, method, args }, transfer);
    });
  }

  async detect(source) { return this._call('detect', [await sendable(source)]); }
  async identify(source) { return this._call('identify', [await sendable(source)]); }
  async track(source) { return this._call('track', [await sendable(source)]); }
  async resetTracks() { return this._call('resetTracks', []); }
  async enroll(name, source) { return this._call('enroll', [name, await sendable(source)]); }
  async verify(a, b) { return this._call('verify', [await sendable(a), await sendable(b)]); }
  async loadLiveness(bytes) {
    await this._call('loadLiveness', [bytes]);
    this._liveness = bytes;
  }
  async liveness(source) { return this._call('liveness', [await sendable(source)]); }
  async loadChallenge(landmark, eye, pose) {
    await this._call('loadChallenge', [landmark, eye, pose]);
    this._challenge = [landmark, eye, pose];
  }
  async startChallenge(options) { return this._call('startChallenge', [options]); }
  async challengeFrame(source, timeMs) { return this._call('challengeFrame', [await sendable(source), timeMs]); }
  async memoryBytes() { return this._call('memoryBytes', []); }

  /** Stops the worker; later calls fail. */
  terminate() {
    if (this._worker) this._worker.terminate();
    this._failAll(named('RecognizerClosed', 'the recognizer worker was terminated'));
    this._worker = null;
  }
}
