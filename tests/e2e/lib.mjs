// Shared helpers of the browser tests and measurements: the demo server, fake-camera videos made from the
// shared photos, and headless Chromium with a fake camera (Playwright driving Debian's chromium).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FACES = process.env.LOCALFACE_FACES || resolve(ROOT, '../shared/data/faces');
export const OUT = join(ROOT, 'target/e2e');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(OUT, { recursive: true });

export function haveFaces() {
  const here = existsSync(join(FACES, 'emotions-a/a1.jpg'));
  if (!here) console.log(`SKIPPED: no face photos in ${FACES} (the shared data folder is absent)`);
  return here;
}

/** Starts scripts/serve.py on a free port (the demo page by default); resolves to { url, stop }. */
export async function serve({ root = join(ROOT, 'www'), csp = true } = {}) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = [join(ROOT, 'scripts/serve.py'), String(port), root, ...(csp ? [] : ['--no-csp'])];
  const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((ok, fail) => {
    child.stdout.once('data', ok);
    child.once('exit', (code) => fail(new Error('serve.py exited with ' + code)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** A .y4m of the given photos (relative to the shared faces folder, or absolute), each held for `frames`
 * frames. */
export function video(name, frames, photos) {
  const out = join(OUT, name + '.y4m');
  if (!existsSync(out)) {
    const python = existsSync(join(ROOT, '.venv/bin/python')) ? join(ROOT, '.venv/bin/python') : 'python3';
    const paths = photos.map((p) => (isAbsolute(p) ? p : join(FACES, p)));
    execFileSync(python, [join(ROOT, 'tests/e2e/make_y4m.py'), out, String(frames), ...paths]);
  }
  return out;
}

/** A shared photo mirrored left to right (the same person, the head turned the other way), written under
 * target/e2e; returns its path. */
export function mirrored(photo) {
  const out = join(OUT, photo.replaceAll('/', '-').replace(/\.\w+$/, '-mirrored.png'));
  if (!existsSync(out)) {
    const python = existsSync(join(ROOT, '.venv/bin/python')) ? join(ROOT, '.venv/bin/python') : 'python3';
    execFileSync(python, ['-c', 'import sys; from PIL import Image, ImageOps; '
      + 'ImageOps.mirror(ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB")).save(sys.argv[2])',
      join(FACES, photo), out]);
  }
  return out;
}

/** A shared photo with a surgical mask or dark glasses drawn over each face (`localface occlude`, from the
 * faces' landmarks), written under target/e2e; returns its path. */
export function occluded(kind, photo) {
  const out = join(OUT, photo.replaceAll('/', '-').replace(/\.\w+$/, `-${kind}.png`));
  execFileSync('cargo', ['run', '--release', '--quiet', '--bin', 'localface', '--', 'occlude', kind, join(FACES, photo), out,
    '--backend', 'cpu'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

const QUIET = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--disable-default-apps', '--disable-features=MediaRouter'];

/** Headless Chromium with a persistent profile (IndexedDB survives relaunches) and the given camera. */
export async function launch({ profile, camera, extraArgs = [] }) {
  const args = [...QUIET, '--enable-unsafe-webgpu', ...extraArgs];
  if (camera === 'deny') args.push('--use-fake-ui-for-media-stream=deny', '--use-fake-device-for-media-stream');
  else if (camera === 'none') args.push('--use-fake-ui-for-media-stream');
  else if (camera) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`);
  return chromium.launchPersistentContext(profile ?? mkdtempSync(join(tmpdir(), 'localface-profile-')), {
    executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 800 },
  });
}

/** Resolves when the page's state satisfies `predicate` (evaluated in the page with `arg`). */
export function until(page, predicate, arg, timeout = 120000) {
  return page.waitForFunction(predicate, arg, { timeout, polling: 100 });
}

/** Resolves when the demo page has loaded its recognizer and recognised a few camera frames; fails with the
 *  page's error if it gave one instead. */
export async function untilRecognising(page) {
  await until(page, () => window.localface.ready && window.localface.frames > 3 || window.localface.error);
  assert.equal(await page.evaluate(() => window.localface.error), null);
}

/** The faces of the next `frames` recognised frames that had a face (frames are sampled as they come).
 *  Fails when ten times as many frames pass without enough faces. */
export async function facesOver(page, frames) {
  const seen = [];
  const start = await page.evaluate(() => window.localface.frames);
  let last = start;
  while (seen.length < frames) {
    await until(page, (n) => window.localface.frames > n, last);
    const s = await page.evaluate(() => ({ frames: window.localface.frames, faces: window.localface.faces }));
    last = s.frames;
    if (s.faces.length) seen.push(s.faces);
    if (last - start > 10 * frames) {
      throw new Error(`only ${seen.length} of ${last - start} frames had a face (wanted ${frames})`);
    }
  }
  return seen;
}

/** The names seen in the next `frames` recognised frames that had a face. */
export async function namesOver(page, frames) {
  return (await facesOver(page, frames)).map((faces) => faces.map((f) => f.name));
}

/** Deletes the page origin's IndexedDB database of galleries, as Chromium does with one it finds corrupt on
 *  opening. Resolves to 'deleted' or 'not deleted'. */
export function deleteDatabase(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.deleteDatabase('localface');
    req.onsuccess = () => resolve('deleted');
    req.onerror = req.onblocked = () => resolve('not deleted');
  }));
}

/** `npm pack` of the package folder (pkg/ by default) into `dest`; returns the tarball's path. */
export function packPackage(dest, dir = join(ROOT, 'pkg')) {
  mkdirSync(dest, { recursive: true });
  const out = execFileSync('npm', ['pack', dir, '--pack-destination', dest, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return join(dest, JSON.parse(out)[0].filename);
}
