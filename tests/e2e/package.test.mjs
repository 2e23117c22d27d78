// The npm package as an app uses it, in headless Chromium: its models are checked against their sha256 (a
// corrupt download is refused by name; a user's own models are not checked) and kept in Cache Storage (a
// corrupt kept copy is downloaded again), a failed init() can be retried,
// images can be a file's encoded bytes, and the worker takes the wasm's address as a URL object. Run: node --test tests/e2e/   (after
// scripts/build-web.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, haveFaces, serve, launch } from './lib.mjs';

let server;
before(async () => { server = await serve(); });
after(() => server && server.stop());

/** A page of the demo's origin with the package at /pkg/, `route` set up before it runs `body`. */
async function onPage(body, route, arg) {
  const context = await launch({});
  try {
    const page = await context.newPage();
    if (route) await route(page);
    await page.goto(server.url + '/style.css');
    return await page.evaluate(body, arg);
  } finally {
    await context.close();
  }
}

test('the package\'s models are checked before use, a user\'s own are not', { timeout: 300000 }, async () => {
  // MobileFaceNet arrives with one bit flipped, as a corrupt download or cache would give it.
  const corrupt = (page) => page.route('**/pkg/models/MobileFaceNet.tflite', async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length >> 1] ^= 1;
    await route.fulfill({ response, body });
  });
  const result = await onPage(async () => {
    const { default: init, Recognizer } = await import('/pkg/index.js');
    await init();
    const outcome = async (options) => {
      try {
        (await Recognizer.create({ gallery: null, ...options })).free();
        return 'created';
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    };
    return {
      package: await outcome({}),
      undefinedBase: await outcome({ modelBaseUrl: undefined }),
      own: await outcome({ modelBaseUrl: '/pkg/models/' }),
      // A folder that is not there, and a server that answers with its page: each names the address.
      missing: await outcome({ modelBaseUrl: '/nowhere/' }),
      page: await outcome({ modelBaseUrl: '/index.html?' }),
    };
  }, corrupt);
  assert.match(result.missing, /^ModelFetchFailed: cannot load \/nowhere\/face_detection_short_range\.tflite: HTTP 404/);
  assert.match(result.page, /^ModelInvalid: \/index\.html\?\/face_detection_short_range\.tflite: not a TFLite model .*: it looks like an HTML page/);
  assert.match(result.package, /^ModelInvalid: .*\/pkg\/models\/MobileFaceNet\.tflite: MobileFaceNet\.tflite: sha256 [0-9a-f]{64}, expected d8ba40c0/);
  assert.equal(result.undefinedBase, result.package, 'modelBaseUrl: undefined means the package\'s models');
  assert.equal(result.own, 'created', 'models under the user\'s own modelBaseUrl are not checked');

  // Uncorrupted, the package's models pass, and are kept in Cache Storage. A kept copy that went bad is
  // dropped and downloaded again.
  const clean = await onPage(async () => {
    const { default: init, Recognizer } = await import('/pkg/index.js');
    await init();
    (await Recognizer.create({ gallery: null })).free();
    const cache = await caches.open('localface-models');
    const key = (await cache.keys()).find((r) => r.url.endsWith('/MobileFaceNet.tflite'));
    const good = new Uint8Array(await (await cache.match(key)).arrayBuffer());
    const bad = good.slice();
    bad[bad.length >> 1] ^= 1;
    await cache.put(key, new Response(bad));
    const progress = [];
    (await Recognizer.create({ gallery: null, onProgress: (p) => progress.push(p) })).free();
    const kept = new Uint8Array(await (await cache.match(key)).arrayBuffer());
    const last = (file) => progress.filter((p) => p.file === file).pop();
    return {
      restored: kept.length === good.length && kept.every((b, i) => b === good[i]),
      mobileFaceNet: last('MobileFaceNet.tflite').cached ?? false,
      onet: last('onet.tflite').cached ?? false,
    };
  });
  assert.deepEqual(clean, { restored: true, mobileFaceNet: false, onet: true },
    'the bad copy is downloaded again; the good ones come from the cache');
});

test('a recognizer before init() is refused, a failed init() can be retried, images can be encoded bytes, and the worker takes a URL object for the wasm', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const photo = [...readFileSync(join(FACES, 'emotions-a/a1.jpg'))];
  const result = await onPage(async (photo) => {
    const { default: init, Recognizer, RecognizerWorker } = await import('/pkg/index.js');
    const early = await Recognizer.create({ gallery: null }).then(() => 'created', (e) => e.name);
    let first;
    try {
      await init({ wasmUrl: '/pkg/no-such.wasm' });
      first = 'loaded';
    } catch (e) {
      first = `${e.name}: ${e.message}`;
    }
    await init();
    // A JPEG's bytes, decoded by the library, on the main thread and in the worker.
    const jpeg = new Uint8Array(photo);
    const r = await Recognizer.create({ gallery: 'package-test' });
    await r.enroll('Ada', jpeg);
    const here = (await r.identify(jpeg)).map((f) => f.name);
    r.free();
    const worker = await RecognizerWorker.create({ gallery: 'package-test' }, { wasmUrl: new URL('/pkg/localface_bg.wasm', location.href) });
    const there = (await worker.identify(jpeg)).map((f) => f.name);
    const kernels = worker.kernels;
    await worker.gallery.clear();
    worker.terminate();
    return { early, first, here, there, kernels };
  }, null, photo);
  assert.equal(result.early, 'NotInitialized', 'a recognizer before init() is refused by name');
  assert.match(result.first, /^WasmLoadFailed: cannot load the WebAssembly module from \/pkg\/no-such\.wasm: /);
  assert.deepEqual([result.here, result.there], [['Ada'], ['Ada']]);
  // The plain build, as asked by the URL object, though this browser has relaxed SIMD.
  assert.equal(result.kernels, 'wasm simd128');
});
