// The npm package in apps built by Vite 8 (build and dev server), webpack 5 and esbuild, with no bundler
// configuration: `npm pack` of pkg/, installed with the bundler into an app of tests/bundlers/app, built,
// served and opened in headless Chromium, where the app enrols a photo and identifies it on the main thread
// and in the worker. esbuild copies no asset named by `new URL(..., import.meta.url)` (evanw/esbuild#795):
// its zero-config outcome is checked to be a clear error, and its documented setup to work.
//
// Run: node --test tests/e2e/   (after scripts/build-web.sh). The installs are kept in target/bundlers/, so
// a second run needs no download. LOCALFACE_PKG=DIR tests another package folder than pkg/ (for example a
// deliberately broken copy, to see these tests fail).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, FACES, haveFaces, serve, launch, packPackage } from './lib.mjs';

const WORK = join(ROOT, 'target/bundlers');
const APP = join(ROOT, 'tests/bundlers/app');
const PACKAGE = process.env.LOCALFACE_PKG || join(ROOT, 'pkg');
const PHOTO = join(FACES, 'emotions-a/a1.jpg');
const WORKS = { mainThread: { names: ['Ada'] }, worker: { names: ['Ada'] } };
// Each takes 2 to 10 s here (a first install up to 10 s more).
const LIMIT = { timeout: 120000 };

// Exact versions: what a new app gets today, and no surprise from a release in the middle of CI.
const BUNDLERS = {
  vite: ['vite@8.4.1'],
  webpack: ['webpack@5.113.0', 'webpack-cli@7.3.1'],
  esbuild: ['esbuild@0.28.2'],
};

let tarball;
before(() => {
  if (!haveFaces()) return;
  tarball = packPackage(WORK, PACKAGE);
  console.log(`npm pack ${PACKAGE} -> ${tarball} (${(statSync(tarball).size / 1e6).toFixed(1)} MB)`);
});

/** Runs a command in `cwd`, prints it with its time, and returns its output; throws with the output if it
 *  fails. */
function sh(cwd, command, ...args) {
  const started = Date.now();
  const run = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  const line = `$ ${[command, ...args].join(' ')}   [${((Date.now() - started) / 1000).toFixed(1)} s, exit ${run.status}]`;
  console.log(line);
  if (run.status !== 0) throw new Error(`${line}\n${output || run.error}`);
  return output;
}

/** The app folder of a bundler in target/bundlers/: the package from the fresh tarball and the bundler
 *  installed (kept between runs), the app's sources copied afresh with the photo as public/face.jpg, and
 *  nothing else: no configuration file, no earlier output. */
function app(bundler) {
  const dir = join(WORK, bundler);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!['node_modules', 'package.json', 'package-lock.json'].includes(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  // Naming the tarball makes npm install it again when its contents changed (a dependency already in
  // package.json would be left as it is).
  sh(dir, 'npm', 'install', '--no-audit', '--no-fund', '--save-exact', tarball, ...BUNDLERS[bundler]);
  cpSync(APP, dir, { recursive: true });
  mkdirSync(join(dir, 'public'));
  cpSync(PHOTO, join(dir, 'public/face.jpg'));
  return dir;
}

/** For bundlers that take a script, not a page: the app's page and photo next to the bundle `script`. */
function addPage(dir, out, script) {
  const page = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.ok(page.includes('./src/index.js'));
  writeFileSync(join(dir, out, 'index.html'), page.replace('./src/index.js', script));
  cpSync(join(dir, 'public/face.jpg'), join(dir, out, 'face.jpg'));
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Asserts that both wasm builds and all models of the installed package are in the build's output, under
 *  any name (the page loads only the relaxed build and the default models). */
function assertAssetsIn(dir, out) {
  const installed = join(dir, 'node_modules/localface');
  const assets = ['localface_bg.wasm', 'localface_relaxed_bg.wasm', ...readdirSync(join(installed, 'models')).map((m) => 'models/' + m)];
  const output = new Set(readdirSync(join(dir, out), { recursive: true }).map((f) => join(dir, out, f))
    .filter((f) => statSync(f).isFile()).map(sha256));
  assert.deepEqual(assets.filter((a) => !output.has(sha256(join(installed, a)))), [], `missing from ${out}/`);
}

/** Opens `url` in headless Chromium and returns what the app wrote into window.result; prints the failed
 *  requests and the errors the page logged. */
async function resultAt(url) {
  const context = await launch({});
  const problems = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(url);
    // window.result is set once, when both the main thread's and the worker's attempts are over.
    await page.waitForFunction(() => window.result, null, { timeout: 60000, polling: 100 });
    const result = await page.evaluate(() => window.result);
    console.log(`  ${url} -> ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const p of problems) console.log(`  ${p}`);
    await context.close();
  }
}

/** Serves the folder `root` (scripts/serve.py) while the app there runs; returns its result. */
async function resultOfBuild(root) {
  const server = await serve({ root, csp: false });
  try {
    return await resultAt(server.url + '/index.html');
  } finally {
    server.stop();
  }
}

test('Vite 8: vite build, no configuration', LIMIT, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const dir = app('vite');
  sh(dir, 'node_modules/.bin/vite', 'build');
  assert.deepEqual(await resultOfBuild(join(dir, 'dist')), WORKS);
  assertAssetsIn(dir, 'dist');
});

test('Vite 8: dev server, the package through its dependency optimizer', LIMIT, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const dir = app('vite');
  const port = 20000 + Math.floor(Math.random() * 20000);
  // --force: the optimizer bundles the package afresh, not from a cache of an earlier tarball.
  const args = ['--host', '127.0.0.1', '--port', String(port), '--strictPort', '--force'];
  console.log(`$ node_modules/.bin/vite ${args.join(' ')}`);
  const vite = spawn(join(dir, 'node_modules/.bin/vite'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  vite.stdout.on('data', (data) => { log += data; });
  vite.stderr.on('data', (data) => { log += data; });
  let exited = null;
  vite.once('exit', (code) => { exited = code; });
  try {
    // Started when it answers.
    for (let waited = 0; ; waited += 200) {
      if (exited !== null || waited > 60000) throw new Error(`vite did not start (exit ${exited}):\n${log}`);
      if (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(await resultAt(`http://127.0.0.1:${port}/`), WORKS);
    assert.ok(existsSync(join(dir, 'node_modules/.vite/deps/localface.js')), 'the optimizer bundled the package');
  } finally {
    vite.kill();
  }
});

test('webpack 5: production build, no configuration', LIMIT, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const dir = app('webpack');
  // webpack's defaults: src/index.js into dist/main.js.
  sh(dir, 'node_modules/.bin/webpack', '--mode', 'production');
  addPage(dir, 'dist', './main.js');
  assert.deepEqual(await resultOfBuild(join(dir, 'dist')), WORKS);
  assertAssetsIn(dir, 'dist');
});

test('esbuild: with no configuration the wasm, models and worker are left out, and the errors name them', LIMIT, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const dir = app('esbuild');
  sh(dir, 'node_modules/.bin/esbuild', 'src/index.js', '--bundle', '--format=esm', '--outdir=dist');
  assert.deepEqual(readdirSync(join(dir, 'dist')), ['index.js'], 'esbuild wrote the bundle alone');
  addPage(dir, 'dist', './index.js');
  const result = await resultOfBuild(join(dir, 'dist'));
  assert.match(result.mainThread?.error ?? '', /^WasmLoadFailed: cannot load the WebAssembly module from http:\/\/[^ ]*\/localface_relaxed_bg\.wasm: .*404/);
  // The worker's script is missing: the error says which.
  assert.match(result.worker?.error ?? '', /^WorkerFailed: the recognizer worker could not be started: its script \(the package's worker\.js\) did not load$/);
});

test('esbuild: the worker as a second entry and the assets copied next to the bundle', LIMIT, async (t) => {
  if (!haveFaces()) return t.skip('no shared photos');
  const dir = app('esbuild');
  // The worker from the package would import ./index.js, which here is the app's bundle: bundle it too.
  sh(dir, 'node_modules/.bin/esbuild', 'src/index.js', 'localface/worker.js', '--bundle', '--format=esm', '--outdir=dist', '--entry-names=[name]');
  sh(dir, 'cp', '-r', 'node_modules/localface/localface_bg.wasm', 'node_modules/localface/localface_relaxed_bg.wasm', 'node_modules/localface/models', 'dist/');
  addPage(dir, 'dist', './index.js');
  assert.deepEqual(await resultOfBuild(join(dir, 'dist')), WORKS);
});
