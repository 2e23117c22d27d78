// Models cached and the demo offline, in headless Chromium: the first visit downloads the models, checks
// them and keeps them in Cache Storage; a second visit downloads none; with the server stopped, the page
// (kept by its service worker) still loads, and still names the person enrolled on the first visit.
// Run: node --test tests/e2e/   (after scripts/build-web.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveFaces, serve, video, launch, until, untilRecognising, namesOver } from './lib.mjs';

const MODELS = ['face_detection_short_range.tflite', 'onet.tflite', 'MobileFaceNet.tflite'];

/** The files of /pkg/models/ requested since `from` (once each: a request the service worker passes on is
 *  seen twice). */
function modelRequests(requests, from = 0) {
  return [...new Set(requests.slice(from).filter((u) => u.includes('/pkg/models/')).map((u) => u.split('/').pop()))];
}

test('the models are kept after the first visit, and the demo works offline', { timeout: 600000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const camera = video('person-a-offline', 30, ['emotions-a/a1.jpg:150', 'emotions-a/a2.jpg', 'emotions-a/a5.jpg']);
  const server = await serve();
  const context = await launch({ profile: mkdtempSync(join(tmpdir(), 'localface-offline-')), camera });
  try {
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // First visit: the models are downloaded and kept; the service worker keeps the page.
    await page.goto(server.url + '/?camera=on');
    await untilRecognising(page);
    assert.deepEqual(modelRequests(requests).sort(), [...MODELS].sort(), 'the first visit downloads the models');
    const kept = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const names = async (cache) => (await (await caches.open(cache)).keys()).map((r) => new URL(r.url).pathname);
      return { models: await names('localface-models'), page: await names('localface-demo') };
    });
    assert.deepEqual(kept.models.map((p) => p.split('/').pop()).sort(), [...MODELS].sort());
    for (const file of ['/', '/app.js', '/pkg/index.js', '/pkg/worker.js', '/pkg/localface_bg.wasm', '/pkg/localface_relaxed_bg.wasm']) {
      assert.ok(kept.page.includes(file), `the service worker keeps ${file}`);
    }
    await page.fill('#name', 'Ada');
    // A fake camera shows photos: enrol without the liveness check the page asks for by default.
    await page.uncheck('#check-before-enroll');
    await page.click('#capture');
    await until(page, () => window.localface.people.length === 1 && window.localface.people[0].samples === 3);

    // Second visit: no model is downloaded.
    const second = requests.length;
    await page.reload();
    await untilRecognising(page);
    assert.deepEqual(modelRequests(requests, second), [], 'the second visit downloads no model');

    // Offline: the server is gone, and the page, the worker, the wasm and the models come from the caches.
    server.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.reload();
    await untilRecognising(page);
    assert.deepEqual(await page.evaluate(() => window.localface.people), [{ name: 'Ada', samples: 3 }]);
    assert.ok((await namesOver(page, 10)).some((names) => names.includes('Ada')), 'Ada is named offline');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.stop();
  }
});
