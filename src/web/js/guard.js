// No Rust panic reaches the app as a crash. Panics abort on wasm32: a trap (`RuntimeError: unreachable`)
// thrown at a synchronous call's caller, or, in an async call, inside a microtask, where no try/catch sees it
// (Node.js then exits, and the call's promise would never settle). The Rust panic hook (src/web/panic.rs)
// calls `onPanic` before the trap: the calls under way are rejected with `Panicked`, the dead instance's
// errors are kept from being reported as uncaught, and the module restarts (wasm-bindgen's reinit). Objects
// made before the panic then refuse every call with `RecognizerLost`; new ones work.
import { scheduleRestart, setPanicListener } from './localface.js';

const inFlight = new Set();
// 'unloaded' until init() has loaded the module, then 'listening', and 'restarting' from a panic until the
// next call registers `onPanic` with the new instance.
let state = 'unloaded';
let lastPanic = null;
// The instance's number, as the glue counts them and marks each object (`__wbg_inst`): one more per restart.
let instance = 0;

function named(name, message) {
  return Object.assign(new Error(message), { name });
}

function panicked() {
  return named('Panicked', `${lastPanic ?? 'localface trapped'} (the call was abandoned; the module restarts on the ` +
    'next call, and recognizers made before it must be created again)');
}

/** Registers `onPanic` with the module: once loaded, and again after each restart (a new instance has none). */
export function listen() {
  setPanicListener(onPanic);
  state = 'listening';
}

/** Starts a fresh instance of the module (the next export call, setPanicListener's, makes it) and listens to it. */
function restart() {
  scheduleRestart();
  listen();
  instance += 1;
}

function onPanic(message) {
  state = 'restarting';
  lastPanic = message;
  const error = panicked();
  for (const reject of inFlight) reject(error);
  inFlight.clear();
  keepDeadInstanceQuiet();
  // Start the new instance once the trap has unwound (not while the old one's frames are on the stack), and
  // soon, so that callbacks the old one left behind (a fetch under way) find it gone instead of running on it.
  queueMicrotask(() => state === 'restarting' && restart());
}

/** A dead instance's last words: its trap, or a callback it left that can no longer run. */
function fromDeadInstance(e) {
  return e instanceof WebAssembly.RuntimeError ||
    (e instanceof Error && /closure from previous WASM instance/.test(e.message));
}

let quiet = false;
/** From the first panic on, a dead instance's errors, which no caller can catch (they come in microtasks and
 * promise callbacks), are not reported as uncaught: Node.js would exit on them. Anything else is left as it
 * was. */
function keepDeadInstanceQuiet() {
  if (quiet) return;
  quiet = true;
  if (typeof globalThis.addEventListener === 'function') {
    // A page or a worker (a worker's uncaught errors would also reach its Worker's onerror).
    globalThis.addEventListener('error', (event) => fromDeadInstance(event.error) && event.preventDefault());
    globalThis.addEventListener('unhandledrejection', (event) => fromDeadInstance(event.reason) && event.preventDefault());
  } else if (typeof process !== 'undefined' && typeof process.on === 'function') {
    // Node.js. With a listener of ours, other errors would no longer end the process: unless the app has
    // listeners of its own, they end it as before.
    for (const event of ['uncaughtException', 'unhandledRejection']) {
      process.on(event, (e) => {
        if (fromDeadInstance(e) || process.listenerCount(event) > 1) return;
        console.error(e);
        process.exit(1);
      });
    }
  }
}

/** A trap or a stale object as the named error the app can branch on; any other error as it is. */
function translate(e) {
  if (e instanceof WebAssembly.RuntimeError) return panicked();
  if (e instanceof Error && /stale object from previous Wasm instance/.test(e.message)) {
    return named('RecognizerLost', 'this object was made before the module panicked and restarted: create it again');
  }
  return e;
}

/** `fn` such that its errors are translated, and its promise (if any) settles even if the module panics. */
function guarded(fn) {
  return function (...args) {
    if (state === 'restarting') restart();
    let result;
    try {
      result = fn.apply(this, args);
    } catch (e) {
      throw translate(e);
    }
    if (!(result instanceof Promise)) return result;
    return new Promise((resolve, reject) => {
      inFlight.add(reject);
      result.then(resolve, (e) => reject(translate(e))).finally(() => inFlight.delete(reject));
    });
  };
}

/** `free` that lets go of an object of a dead instance without a call: the glue would free its address in the
 * new instance, where something else lives. */
function freeOnlyLive(free) {
  return function () {
    if (this.__wbg_inst !== undefined && this.__wbg_inst !== instance) return void this.__destroy_into_raw();
    return free.call(this);
  };
}

/** Guards every method, getter and static function of one of the module's classes (not its internals, `__*`),
 * and returns the class with its constructor guarded too. */
export function guardClass(cls) {
  cls.prototype.free = freeOnlyLive(cls.prototype.free);
  for (const target of [cls, cls.prototype]) {
    for (const key of Object.getOwnPropertyNames(target)) {
      if (key.startsWith('__') || ['constructor', 'prototype', 'length', 'name', 'free'].includes(key)) continue;
      const d = Object.getOwnPropertyDescriptor(target, key);
      if (typeof d.value === 'function') d.value = guarded(d.value);
      if (d.get) d.get = guarded(d.get);
      if (d.configurable) Object.defineProperty(target, key, d);
    }
  }
  return new Proxy(cls, {
    construct(target, args, newTarget) {
      return guarded((...a) => Reflect.construct(target, a, newTarget))(...args);
    },
  });
}
