// One ONNX model in the package's WebAssembly build under Node.js (TfliteModel, which reads .onnx files
// too), one thread: the median of RUNS runs after 3 warm-ups, on an input of SHAPE (NHWC, batch 1).
// Prints {"ms", "kernels"}. Run by benches/onnx_compare.py after scripts/build-web.sh.
//   node benches/onnx_wasm.mjs MODEL.onnx RUNS N,H,W,C
import { readFileSync } from 'node:fs';
import init, { TfliteModel } from '../pkg/index.js';

const [file, runs, shape] = [process.argv[2], Number(process.argv[3]), process.argv[4].split(',').map(Number)];
await init();
const model = new TfliteModel(new Uint8Array(readFileSync(file)));
const size = shape.reduce((a, b) => a * b, 1);
const x = Float32Array.from({ length: size }, (_, i) => ((i * 7919) % 2001) / 1000 - 1);
for (let k = 0; k < 3; k++) await model.run(x, shape);
const ms = [];
for (let k = 0; k < runs; k++) {
  const t = performance.now();
  await model.run(x, shape);
  ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: ms[Math.floor(runs / 2)], kernels: model.kernels }));
model.free();
