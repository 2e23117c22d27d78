// Loads benches/browser/index.html in headless Chromium, prints the table of localface (both builds) vs
// TFLite (XNNPACK) with ratios, and writes the figures as JSON to the path given. The native figures are
// scripts/bench-native.sh's.
//   node benches/browser/run.mjs OUT.json      (after scripts/build-web.sh)
// One thread is timed in a browser held to one core (`taskset -c 0`), two threads in another browser on
// all cores: this machine's cores each have stretches of seconds at about two thirds of their speed, and
// contenders on different threads (localface in a worker, TFLite on the page) would otherwise land in
// different stretches (BlazeFace full range, relaxed: 0.57x in one run, 1.03x in the next). On one core they
// share them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROOT, serve, launch, until } from '../../tests/e2e/lib.mjs';

/** Runs the page once (`query`: its search string) and returns window.benchResults. */
async function runPage(query) {
  const server = await serve({ root: ROOT, csp: false });
  const context = await launch({});
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => { if (process.env.BENCH_VERBOSE) console.error('console:', m.text()); });
  page.on('response', (r) => { if (process.env.BENCH_VERBOSE && r.status() >= 400) console.error('HTTP', r.status(), r.url()); });
  await page.goto(server.url + '/benches/browser/index.html' + query);
  const failed = new Promise((_, reject) => page.on('pageerror', (e) => reject(e)));
  await Promise.race([until(page, () => window.benchResults, null, 900000), failed]);
  const results = await page.evaluate(() => window.benchResults);
  await context.close();
  server.stop();
  if (results.error) { console.error(results.error); process.exit(1); }
  return results;
}

// `--threads N`: one phase, its results as JSON on stdout (how the phases below run).
if (process.argv[2] === '--threads') {
  console.log(JSON.stringify(await runPage('?threads=' + process.argv[3])));
  process.exit(0);
}
const out = process.argv[2];
if (!out) { console.error('usage: node benches/browser/run.mjs OUT.json'); process.exit(2); }
// BENCH_PROFILE=1: per-op times instead (BENCH_PROFILE=plain: of the plain build).
if (process.env.BENCH_PROFILE) {
  const query = { 1: '?profile=1', plain: '?profile=1&plain=1' }[process.env.BENCH_PROFILE];
  console.log((await runPage(query)).profile);
  process.exit(0);
}
const self = fileURLToPath(import.meta.url);
const phase = (threads, pinned) => JSON.parse(execFileSync(pinned ? 'taskset' : process.execPath,
  [...(pinned ? ['-c', '0', process.execPath] : []), self, '--threads', String(threads)],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 }));
const results = phase(1, true);
for (const [name, r] of Object.entries(phase(2, false))) {
  if (r.p90) Object.assign(results[name], { ...r, kernels: results[name].kernels, p90: { ...results[name].p90, ...r.p90 } });
}

const figures = { userAgent: results.userAgent };
console.log(`\nheadless Chromium, cross-origin isolated: ${results.crossOriginIsolated}, ${results.hardwareConcurrency} cores`);
console.log('model            per item  threads   localface relaxed   localface plain      TFLite   ratios (relaxed, plain)');
const f = (v) => v.toFixed(2).padStart(8) + ' ms';
for (const name of ['mobilefacenet', 'blazeface_short', 'blazeface_full']) {
  const r = results[name];
  figures[name] = r;
  for (const t of ['1t', '2t']) {
    const [relaxed, plain, tfl] = [r[`localface_relaxed_${t}_ms`], r[`localface_plain_${t}_ms`], r[`tflite_${t}_ms`]];
    console.log(`${name.padEnd(16)} ${name === 'mobilefacenet' ? 'face ' : 'frame'}     ${t}       ${f(relaxed)}       ${f(plain)}  ${f(tfl)}   ${r[`ratio_relaxed_${t}`].toFixed(2)}x  ${r[`ratio_plain_${t}`].toFixed(2)}x`);
  }
}
console.log(`(kernels: ${results.mobilefacenet.kernels.relaxed} / ${results.mobilefacenet.kernels.plain}; median of 50 runs ` +
  'taken in turns, one run each a round, after 10 warm-ups; ratios: median of the rounds\' ratios; p90 in the JSON; MobileFaceNet per face at batch 2; ' +
  'localface 2t = two workers, one instance each)');
writeFileSync(out, JSON.stringify(figures, null, 2) + '\n');
console.log(`figures written to ${out}`);

