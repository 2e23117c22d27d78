// The demo page's service worker: after one visit the page works offline. On install it keeps the page and
// the package's code (pkg/shell.json, listed by scripts/build-web.sh); every request then goes to the network
// first, and to the kept copy when the network fails (so an online visit always gets the current files). The
// models are not kept here: the package keeps them itself in Cache Storage, checked against their sha256.
const CACHE = 'localface-demo';
const PAGE = ['./', 'app.js', 'liveness.js', 'style.css'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const shell = await (await fetch('pkg/shell.json', { cache: 'no-store' })).json();
    const cache = await caches.open(CACHE);
    await cache.addAll([...PAGE, ...shell.map((file) => 'pkg/' + file)]);
    await self.skipWaiting();
  })());
});

// Controls the page that registered it at once, not from its next visit: the worker it starts, the wasm
// and the models then load through it.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  event.respondWith(networkElseKept(event.request, url));
});

/** The network's answer (refreshing the kept copy, if there is one), or the kept copy when there is no network. */
async function networkElseKept(request, url) {
  // Kept without the query: /?camera=on is the page.
  const key = url.origin + url.pathname;
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && (await cache.match(key))) await cache.put(key, response.clone());
    return response;
  } catch (e) {
    const kept = await cache.match(key);
    if (kept) return kept;
    throw e;
  }
}
