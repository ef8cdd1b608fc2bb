// notebox service worker: after the first visit the app opens without a connection.
// notebox serves this file with the list of UI files and a version filled in below, so a
// new release installs a new cache. Pages and our modules: network first (always fresh
// when online), cache when offline. Content-hashed vendor files: cache first. Never /api.

const VERSION = '__NOTEBOX_VERSION__';
const PRECACHE = ['__NOTEBOX_PRECACHE__'];
const CACHE = `notebox-${VERSION}`;
const HASHED = /^\/vendor\/.+-[A-Za-z0-9_-]{8}\.[a-z]+$/;
// The version is a hash of these files, so the cache installed with it holds them as the
// network serves them: they are never written again (a page asks for some sixty at once,
// and writing each back made the others wait in this worker).
const PRECACHED = new Set(PRECACHE);
let opened = null;
const cache = () => (opened ??= caches.open(CACHE));

self.addEventListener('install', (event) => {
  // Where the browser can (Chromium's static routes), a script goes to the network at once,
  // racing this worker's answer, which is used when the network fails (offline): a page
  // asks for some sixty at once, and each waited its turn in this worker.
  event.addRoutes?.({ condition: { requestDestination: 'script' }, source: 'race-network-and-fetch-handler' }).catch(() => {});
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('notebox-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname === '/sw.js') return;
  if (request.mode === 'navigate') event.respondWith(page(request));
  else if (HASHED.test(url.pathname)) event.respondWith(cacheFirst(request));
  else event.respondWith(networkFirst(event));
});

/** Every client-side route is index.html: serve it fresh, or the cached copy offline. */
async function page(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return (await (await cache()).match('/')) ?? Promise.reject(error);
  }
}

/** The page gets the answer at once; a file not installed with this version is kept meanwhile. */
async function networkFirst(event) {
  const { request } = event;
  try {
    const response = await fetch(request);
    if (response.ok && !PRECACHED.has(new URL(request.url).pathname)) {
      const copy = response.clone();
      event.waitUntil(cache().then((kept) => kept.put(request, copy)));
    }
    return response;
  } catch (error) {
    return (await (await cache()).match(request, { ignoreSearch: true })) ?? Promise.reject(error);
  }
}

async function cacheFirst(request) {
  const kept = await cache();
  const cached = await kept.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await kept.put(request, response.clone());
  return response;
}
