// Loads benches/browser/index.html in headless Chromium, prints the table of localface vs TFLite (XNNPACK)
// with ratios, writes the figures as JSON to the path given, and prints the native figures of localface
// (cargo bench --bench cpu) and of ai-edge-litert on this machine.
//   node benches/browser/run.mjs OUT.json      (after scripts/build-web.sh)
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, serve, launch, until } from '../../tests/e2e/lib.mjs';

const out = process.argv[2];
if (!out) { console.error('usage: node benches/browser/run.mjs OUT.json'); process.exit(2); }

const server = await serve({ root: ROOT, csp: false });
const context = await launch({});
const page = await context.newPage();
page.on('pageerror', (e) => console.error('page error:', e.message));
page.on('console', (m) => { if (process.env.BENCH_VERBOSE) console.error('console:', m.text()); });
page.on('response', (r) => { if (process.env.BENCH_VERBOSE && r.status() >= 400) console.error('HTTP', r.status(), r.url()); });
await page.goto(server.url + '/benches/browser/index.html' + (process.env.BENCH_PROFILE ? '?profile=1' : ''));
const failed = new Promise((_, reject) => page.on('pageerror', (e) => reject(e)));
await Promise.race([until(page, () => window.benchResults, null, 900000), failed]);
const results = await page.evaluate(() => window.benchResults);
await context.close();
server.stop();
if (results.error) { console.error(results.error); process.exit(1); }
if (results.profile) { console.log(results.profile); process.exit(0); }

const figures = {};
console.log(`\nheadless Chromium, cross-origin isolated: ${results.crossOriginIsolated}, ${results.hardwareConcurrency} cores`);
console.log('model            per item    localface 1t   TFLite 1t   ratio   | localface 2t   TFLite 2t   ratio');
for (const name of ['mobilefacenet', 'blazeface_short']) {
  const r = results[name];
  figures[name] = { localface_1t_ms: r.localface_1t_ms, localface_2t_ms: r.localface_2t_ms, tflite_1t_ms: r.tflite_1t_ms, tflite_2t_ms: r.tflite_2t_ms, p90: { localface_1t_ms: r.localface_1t_p90_ms, localface_2t_ms: r.localface_2t_p90_ms, tflite_1t_ms: r.tflite_1t_p90_ms, tflite_2t_ms: r.tflite_2t_p90_ms } };
  const f = (v) => v.toFixed(2).padStart(8) + ' ms';
  console.log(`${name.padEnd(16)} ${name === 'mobilefacenet' ? 'face ' : 'frame'}    ${f(r.localface_1t_ms)}   ${f(r.tflite_1t_ms)}   ${(r.localface_1t_ms / r.tflite_1t_ms).toFixed(2)}x  | ${f(r.localface_2t_ms)}   ${f(r.tflite_2t_ms)}   ${(r.localface_2t_ms / r.tflite_2t_ms).toFixed(2)}x`);
}
console.log('(median of 50 after 10 warm-ups; p90 in the JSON; MobileFaceNet per face at batch 2; localface 2t = two workers, one instance each)');
writeFileSync(out, JSON.stringify(figures, null, 2) + '\n');
console.log(`figures written to ${out}`);

console.log('\nnative, this machine:');
console.log(execFileSync('cargo', ['bench', '--quiet', '--bench', 'cpu'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const python = join(ROOT, '.venv/bin/python');
console.log(execFileSync(python, [join(ROOT, 'benches/litert_bench.py'), join(ROOT, 'models')], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } }));
