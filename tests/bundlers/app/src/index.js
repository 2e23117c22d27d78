// An app as a user writes it: localface imported by its package name, no bundler configuration. It enrols
// the photo served as face.jpg and identifies it, on the main thread and then in the worker, and writes what
// happened into window.result (and the page) for the test to read.
import init, { Recognizer, RecognizerWorker } from 'localface';

/** The names identify finds, or the error as "Name: message" (the worker's failure may not be an Error). */
async function outcome(run) {
  try {
    return { names: await run() };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : `${Object.prototype.toString.call(e)} ${e?.message ?? e}` };
  }
}

/** Enrols the photo as Ada with `recognizer` (on the main thread or in the worker), then identifies it. */
async function enrolAndIdentify(recognizer, face) {
  await recognizer.enroll('Ada', await createImageBitmap(face));
  return (await recognizer.identify(await createImageBitmap(face))).map((f) => f.name);
}

async function main() {
  const response = await fetch('face.jpg');
  if (!response.ok) throw new Error(`face.jpg: HTTP ${response.status}`);
  const face = await response.blob();

  const mainThread = await outcome(async () => {
    await init();
    const recognizer = await Recognizer.create({ gallery: null });
    try {
      return await enrolAndIdentify(recognizer, face);
    } finally {
      recognizer.free();
    }
  });

  const worker = await outcome(async () => {
    const recognizer = await RecognizerWorker.create({ gallery: null });
    try {
      return await enrolAndIdentify(recognizer, face);
    } finally {
      recognizer.terminate();
    }
  });

  return { mainThread, worker };
}

main()
  .catch((e) => ({ error: `${e.name}: ${e.message}` }))
  .then((result) => {
    window.result = result;
    document.getElementById('result-text').textContent = JSON.stringify(result, null, 2);
  });
