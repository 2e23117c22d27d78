// No Rust panic crosses into JavaScript as a crash: each export made to panic once (`panicOnNextCall`), and the
// GPU panic once found in Node.js, gives a `Panicked` error to its caller; objects made before it refuse with
// `RecognizerLost`; the module restarts and goes on working. In Node.js (a process of its own, which an escaped
// trap would end) and in headless Chromium, on the main thread and in the worker. Run: node --test tests/e2e/
// (after scripts/build-web.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, ROOT, haveFaces, serve, launch } from './lib.mjs';

let server;
before(async () => { server = await serve(); });
after(() => server && server.stop());

test('in Node.js every export that panics gives Panicked, and the process goes on', { timeout: 120000 }, (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  // Exits with the trap's stack if a panic escapes.
  const out = execFileSync('node', [join(ROOT, 'tests/e2e/panic-script.mjs'), FACES], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const result = JSON.parse(out);
  assert.deepEqual(Object.keys(result.calls).sort(), result.exports, 'every export is made to panic');
  for (const [name, got] of Object.entries(result.calls)) {
    assert.match(got, new RegExp(`^Panicked: localface panicked: .*\\n?forced panic in ${name.replace('.', '\\.')} `), name);
    assert.match(result.stale[name], /^RecognizerLost: /, `an object made before ${name} panicked`);
  }
  // The call that was under way when another panicked fails too, instead of never settling.
  assert.match(result.syncPanic, /^Panicked: .*forced panic in Recognizer\.memoryBytes/s);
  assert.match(result.underWay, /^Panicked: .*forced panic in Recognizer\.memoryBytes/s);
  assert.match(result.gpu, /^Panicked: .*Accessing the GPU is only supported on the main thread/s);
  assert.deepEqual(result.after, ['Ada'], 'after 30 panics a fresh recognizer enrols and identifies');
});

test('in Chromium a panic on the main thread or in the worker is an error, and both go on', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const context = await launch({});
  try {
    const page = await context.newPage();
    const uncaught = [];
    page.on('pageerror', (e) => uncaught.push(String(e)));
    await page.goto(server.url + '/style.css');
    const photo = [...readFileSync(join(FACES, 'emotions-a/a1.jpg'))];
    const live = [...readFileSync(join(FACES, '../spoof/image_T1.jpg'))];
    const model = [...readFileSync(join(ROOT, 'models/fr_liveness.onnx'))];
    const result = await page.evaluate(async ([photo, live, model]) => {
      const { default: init, Recognizer, RecognizerWorker } = await import('/pkg/index.js');
      const { panicOnNextCall } = await import('/pkg/localface.js');
      const settle = (p) => p.then(() => 'ok', (e) => `${e.name}: ${e.message}`);
      const jpeg = new Uint8Array(photo);
      await init();
      // The main thread: the panicking call, an object of before it, and a new one.
      const r = await Recognizer.create({ gallery: 'panic-test' });
      await r.enroll('Ada', jpeg);
      panicOnNextCall('Recognizer.identify');
      const identify = await settle(r.identify(jpeg));
      const stale = await settle(Promise.resolve().then(() => r.threshold));
      const fresh = await Recognizer.create({ gallery: 'panic-test' });
      const again = (await fresh.identify(jpeg)).map((f) => f.name);
      fresh.free();
      // The worker: the call fails, a fresh worker takes over with the stored gallery.
      const worker = await RecognizerWorker.create({ gallery: 'panic-test' });
      await worker.loadLiveness(new Uint8Array(model));
      await worker._call('panicOnNextCall', ['Recognizer.identify']);
      const inWorker = await settle(worker.identify(jpeg));
      const afterWorker = (await worker.identify(jpeg)).map((f) => f.name);
      // The fresh worker has the liveness model its predecessor was given.
      const liveAfter = (await worker.liveness(new Uint8Array(live))).map((f) => f.live);
      const restarts = worker.restarts;
      await worker.gallery.clear();
      worker.terminate();
      return { identify, stale, again, inWorker, afterWorker, liveAfter, restarts };
    }, [photo, live, model]);
    assert.match(result.identify, /^Panicked: .*forced panic in Recognizer\.identify/s);
    assert.match(result.stale, /^RecognizerLost: /);
    assert.deepEqual(result.again, ['Ada'], 'a recognizer made after the panic identifies from the stored gallery');
    assert.match(result.inWorker, /^RecognizerCrashed: .*forced panic in Recognizer\.identify/s);
    assert.deepEqual([result.afterWorker, result.restarts], [['Ada'], 1]);
    assert.deepEqual(result.liveAfter, [true], 'the replaced worker still has its liveness model');
    assert.deepEqual(uncaught, [], 'nothing reached the page as an uncaught error');
  } finally {
    await context.close();
  }
});
