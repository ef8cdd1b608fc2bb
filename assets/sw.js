// notebox service worker: after the first visit the app opens without a connection.
// notebox serves this file with the list of UI files and a version filled in below, so a
// new release installs a new cache. Pages and our modules: network first (always fresh
// when online), cache when offline. Content-hashed vendor files: cache first. Never /api.

const VERSION = '__NOTEBOX_VERSION__';
const PRECACHE = ['__NOTEBOX_PRECACHE__'];
const CACHE = `notebox-${VERSION}`;
const HASHED = /^\/vendor\/.+-[A-Za-z0-9_-]{8}\.[a-z]+$/;

self.addEventListener('install', (event) => {
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
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html')) {
      await cache.put('/', response.clone());
    }
    return response;
  } catch (error) {
    return (await cache.match('/')) ?? Promise.reject(error);
  }
}

/** The page gets the answer at once; the copy kept for offline use is written meanwhile. */
async function networkFirst(event) {
  const { request } = event;
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) event.waitUntil(cache.put(request, response.clone()));
    return response;
  } catch (error) {
    return (await cache.match(request, { ignoreSearch: true })) ?? Promise.reject(error);
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
