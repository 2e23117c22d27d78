// One localface instance in a worker, for the two-worker timings of bench.js.
import init, { TfliteModel } from '/pkg/index.js';

let model = null, item = null, shape = null;
self.onmessage = async ({ data }) => {
  try {
    if (data.load) {
      await init();
      model = new TfliteModel(data.load);
      ({ item, shape } = data);
    } else {
      await model.run(item, shape);
    }
    self.postMessage({ id: data.id });
  } catch (e) {
    self.postMessage({ id: data.id, error: String(e.message || e) });
  }
};
