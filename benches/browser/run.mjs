// Loads benches/browser/index.html in headless Chromium, prints the table of localface (both builds) vs
// TFLite (XNNPACK) with ratios, and writes the figures as JSON to the path given. The native figures are
// scripts/bench-native.sh's.
//   node benches/browser/run.mjs OUT.json      (after scripts/build-web.sh)
import { writeFileSync } from 'node:fs';
import { ROOT, serve, launch, until } from '../../tests/e2e/lib.mjs';

const out = process.argv[2];
if (!out) { console.error('usage: node benches/browser/run.mjs OUT.json'); process.exit(2); }

const server = await serve({ root: ROOT, csp: false });
const context = await launch({});
const page = await context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
page.on('console', (m) => { if (process.env.BENCH_VERBOSE) console.error('console:', m.text()); });
page.on('response', (r) => { if (process.env.BENCH_VERBOSE && r.status() >= 400) console.error('HTTP', r.status(), r.url()); });
// BENCH_PROFILE=1: per-op times instead (BENCH_PROFILE=plain: of the plain build).
const profileQuery = { '': '', 1: '?profile=1', plain: '?profile=1&plain=1' }[process.env.BENCH_PROFILE ?? ''];
await page.goto(server.url + '/benches/browser/index.html' + profileQuery);
const failed = new Promise((_, reject) => page.on('pageerror', (e) => reject(e)));
await Promise.race([until(page, () => window.benchResults, null, 900000), failed]);
const results = await page.evaluate(() => window.benchResults);
await context.close();
server.stop();
if (results.error) { console.error(results.error); process.exit(1); }
if (results.profile) { console.log(results.profile); process.exit(0); }

const figures = { userAgent: results.userAgent };
console.log(`\nheadless Chromium, cross-origin isolated: ${results.crossOriginIsolated}, ${results.hardwareConcurrency} cores`);
console.log('model            per item  threads   localface relaxed   localface plain      TFLite   ratios (relaxed, plain)');
const f = (v) => v.toFixed(2).padStart(8) + ' ms';
for (const name of ['mobilefacenet', 'blazeface_short', 'blazeface_full']) {
  const r = results[name];
  figures[name] = r;
  for (const t of ['1t', '2t']) {
    const [relaxed, plain, tfl] = [r[`localface_relaxed_${t}_ms`], r[`localface_plain_${t}_ms`], r[`tflite_${t}_ms`]];
    r[`ratio_relaxed_${t}`] = +(relaxed / tfl).toFixed(3);
    r[`ratio_plain_${t}`] = +(plain / tfl).toFixed(3);
    console.log(`${name.padEnd(16)} ${name === 'mobilefacenet' ? 'face ' : 'frame'}     ${t}       ${f(relaxed)}       ${f(plain)}  ${f(tfl)}   ${r[`ratio_relaxed_${t}`].toFixed(2)}x  ${r[`ratio_plain_${t}`].toFixed(2)}x`);
  }
}
console.log(`(kernels: ${results.mobilefacenet.kernels.relaxed} / ${results.mobilefacenet.kernels.plain}; median of 50 runs ` +
  'taken in turns, 5 rounds of 10, after 10 warm-ups; p90 in the JSON; MobileFaceNet per face at batch 2; ' +
  'localface 2t = two workers, one instance each)');
writeFileSync(out, JSON.stringify(figures, null, 2) + '\n');
console.log(`figures written to ${out}`);

