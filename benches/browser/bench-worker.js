// One localface instance in a worker (the plain or the relaxed-SIMD build), for bench.js. It times its own
// runs, so the figures carry no message passing; the two-worker timings are wall time on the page.
import init, { TfliteModel } from '/pkg/index.js';

let model = null, item = null, shape = null;
self.onmessage = async ({ data }) => {
  try {
    let reply = {};
    if (data.load) {
      await init({ noRelaxedSimd: data.plain });
      model = new TfliteModel(data.load);
      ({ item, shape } = data);
      reply = { kernels: model.kernels };
    } else {
      const ms = [];
      for (let i = 0; i < data.runs; i++) {
        const t = performance.now();
        await model.run(item, shape);
        ms.push(performance.now() - t);
      }
      reply = { ms };
    }
    self.postMessage({ id: data.id, ...reply });
  } catch (e) {
    self.postMessage({ id: data.id, error: String(e.message || e) });
  }
};
