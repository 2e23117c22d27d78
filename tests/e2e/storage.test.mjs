// Storage faults, in headless Chromium: the browser killed (SIGKILL) in the middle of gallery saves, in a
// loop, always leaves the old or the new gallery, never a broken one or none, plain or encrypted; a gallery
// lost from IndexedDB comes back from its copy in Cache Storage; a save over the quota changes nothing.
// Run: node --test tests/e2e/   (after scripts/build-web.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, deleteDatabase, serve } from './lib.mjs';

let server;
before(async () => { server = await serve(); });
after(() => server && server.stop());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A gallery export (format of src/gallery/mod.rs): `people` people, one 192-d embedding each, of
 *  random values (so that storage cannot compress them away). */
function galleryFile(prefix, people) {
  const dim = 192;
  const names = Array.from({ length: people }, (_, i) => new TextEncoder().encode(`${prefix}${i}`));
  const size = 8 + 16 + names.reduce((n, b) => n + 2 + b.length, 0) + people * (4 + 4 * dim) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('LFGALLRY'));
  let at = 8;
  for (const v of [1, dim, people, people]) { view.setUint32(at, v, true); at += 4; }
  for (const b of names) { view.setUint16(at, b.length, true); out.set(b, at + 2); at += 2 + b.length; }
  for (let p = 0; p < people; p++) {
    view.setUint32(at, p, true); at += 4;
    for (let k = 0; k < dim; k++) { view.setFloat32(at, Math.random() - 0.5, true); at += 4; }
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Chromium as its own process (so that it can be killed outright), driven over CDP. */
async function startBrowser(profile, port) {
  const child = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`,
    'about:blank'], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 200; i++) {
    try {
      return { child, browser: await chromium.connectOverCDP(`http://127.0.0.1:${port}`) };
    } catch {
      await sleep(100);
    }
  }
  throw new Error('Chromium did not start');
}

function kill(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

/** A page of the demo's origin with the package loaded and a recognizer on the gallery 'storage-test'. */
async function recognizerPage(browser, options = {}) {
  const page = await browser.contexts()[0].newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.goto(server.url + '/style.css');
  const error = await page.evaluate(async (options) => {
    try {
      const { default: init, Recognizer } = await import('/pkg/index.js');
      await init();
      window.recognizer = await Recognizer.create({ gallery: 'storage-test', ...options });
      return null;
    } catch (e) {
      return String(e.message || e);
    }
  }, options);
  return { page, error, warnings };
}

/** Imports a gallery file into the page's recognizer: 'saved', or the error's message. */
function importGallery(page, file) {
  return page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    try { await window.recognizer.gallery.import(bytes); return 'saved'; } catch (e) { return e.message; }
  }, Buffer.from(file).toString('base64'));
}

for (const passphrase of [undefined, 'kill test']) {
  test(`a browser killed during saves leaves the old or the new gallery${passphrase ? ' (encrypted)' : ''}`, { timeout: 600000 }, async () => {
    const profile = mkdtempSync(join(tmpdir(), 'localface-kill-'));
    const files = { a: galleryFile('a', 300), b: galleryFile('b', 301) };
    const port = 9300 + Math.floor(Math.random() * 500);
    const seen = [];
    let resets = 0;
    for (let round = 0; round < 8; round++) {
      const { child, browser } = await startBrowser(profile, port);
      // Killed in every case: a Chromium left running after a failed assertion would keep the test process
      // (and CI) waiting forever.
      try {
        const { page, error, warnings } = await recognizerPage(browser, { passphrase });
        assert.equal(error, null, `round ${round}: the stored gallery must load`);
        // Chromium wipes IndexedDB when it finds it corrupt after a kill (about 1 kill in 100): the gallery then
        // comes from its copy in Cache Storage (src/web/js/glue.js).
        if (warnings.some((w) => /reset its IndexedDB/.test(w))) resets++;
        const people = await page.evaluate(() => window.recognizer.gallery.people().length);
        if (round > 0) assert.ok(people === 300 || people === 301, `round ${round}: ${people} people`);
        seen.push(people);
        // Save the two galleries in turn, without pause, and kill the browser after a random number of saves.
        await page.evaluate(({ a, b }) => {
          window.saves = 0;
          const files = [new Uint8Array(a), new Uint8Array(b)];
          (async () => {
            for (;;) { await window.recognizer.gallery.import(files[window.saves % 2]); window.saves++; }
          })();
        }, { a: [...files.a], b: [...files.b] });
        const target = 2 + Math.floor(Math.random() * 6);
        await page.waitForFunction((n) => window.saves >= n, target, { timeout: 120000 });
        await sleep(Math.random() * 50);
      } finally {
        kill(child);
        await browser.close().catch(() => {});
      }
    }
    console.log(`people found after each kill${passphrase ? ' (encrypted)' : ''}: ${seen.slice(1).join(', ')}; `
      + `IndexedDB reset by the browser ${resets} times`);
  });
}

for (const passphrase of [undefined, 'lost and found']) {
  test(`a gallery lost from IndexedDB is read from its copy, said so, and written back${passphrase ? ' (encrypted)' : ''}`, { timeout: 300000 }, async () => {
    const profile = mkdtempSync(join(tmpdir(), 'localface-restore-'));
    const { child, browser } = await startBrowser(profile, 9800 + Math.floor(Math.random() * 90));
    try {
      const first = await recognizerPage(browser, { passphrase });
      assert.equal(first.error, null);
      assert.equal(await importGallery(first.page, galleryFile('r', 5)), 'saved');
      assert.equal(await first.page.evaluate(() => window.recognizer.gallery.restored), undefined, 'a fresh gallery');
      assert.equal(await deleteDatabase(first.page), 'deleted');
      // The next load finds IndexedDB empty: the gallery comes from Cache Storage, and says why.
      const second = await recognizerPage(browser, { passphrase });
      assert.equal(second.error, null);
      assert.equal(await second.page.evaluate(() => window.recognizer.gallery.people().length), 5);
      assert.equal(await second.page.evaluate(() => window.recognizer.gallery.encrypted), Boolean(passphrase));
      assert.match(await second.page.evaluate(() => window.recognizer.gallery.restored), /^IndexedDB had lost the gallery/);
      assert.ok(second.warnings.some((w) => /read from its copy in Cache Storage/.test(w)), second.warnings.join('\n'));
      // It was written back: the load after that reads IndexedDB again.
      const third = await recognizerPage(browser, { passphrase });
      assert.equal(third.error, null);
      assert.equal(await third.page.evaluate(() => window.recognizer.gallery.people().length), 5);
      assert.equal(await third.page.evaluate(() => window.recognizer.gallery.restored), undefined, 'written back to IndexedDB');
    } finally {
      kill(child);
      await browser.close().catch(() => {});
    }
  });
}

test('a save over the storage quota is reported and loses nothing', { timeout: 300000 }, async (t) => {
  // The profile on a 16 MB tmpfs, so that a gallery of 20,000 people (15 MB, incompressible) fills the disk:
  // the write fails as over quota. Mounting needs root (CI runs as root).
  if (process.getuid() !== 0) return t.skip('mounting a small tmpfs needs root');
  const mount = mkdtempSync(join(tmpdir(), 'localface-quota-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount]);
  const { child, browser } = await startBrowser(mount, 9900 + Math.floor(Math.random() * 90));
  try {
    const { page, error } = await recognizerPage(browser);
    assert.equal(error, null);
    assert.equal(await importGallery(page, galleryFile('s', 3)), 'saved');
    const quota = await page.evaluate(async () => (await navigator.storage.estimate()).quota);
    const message = await importGallery(page, galleryFile('big', 20000));
    console.log(`quota ${(quota / 1e6).toFixed(1)} MB, disk 16 MB; saving 15 MB: ${message}`);
    assert.match(message, /storage quota exceeded: the gallery was not saved \(the stored one is unchanged\)/);
    assert.equal(await page.evaluate(() => window.recognizer.gallery.people().length), 3, 'memory unchanged');
    // A fresh recognizer (as after a reload) finds the stored gallery unchanged.
    const again = await recognizerPage(browser);
    assert.equal(await again.page.evaluate(() => window.recognizer.gallery.people().length), 3, 'storage unchanged');
  } finally {
    kill(child);
    await browser.close().catch(() => {});
    await sleep(500);
    execFileSync('umount', ['-l', mount]);
  }
});
