/* Soleware service worker (version {{ version }}): the app shell comes from the cache when the network is gone,
   GET /api/runs* answers are kept so runs already opened still show offline, and the phone's outbox goes up by
   Background Sync when the network is back, even with the page closed. */
"use strict";

importScripts("/static/js/outbox.js");

const SHELL = "soleware-shell-{{ version }}";
const API = "soleware-api";
const PRECACHE = {{ precache|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) =>
      Promise.all(PRECACHE.map((url) => cache.add(new Request(url, { cache: "reload" })).catch(() => null))),
    ).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("soleware-shell-") && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function offlineJson() {
  return new Response(JSON.stringify({ detail: "offline" }), {
    status: 503,
    headers: { "Content-Type": "application/json" },
  });
}

async function networkFirst(request, cacheName, fallbackKeys) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await caches.match(request);
    if (cached) return cached;
    for (const key of fallbackKeys) {
      const hit = await caches.match(key);
      if (hit) return hit;
    }
    if (request.mode === "navigate") throw err;
    return offlineJson();
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.endsWith("/export")) {
    return; // downloads: not worth keeping offline
  } else if (url.pathname === "/api/runs" || url.pathname.startsWith("/api/runs/")) {
    event.respondWith(networkFirst(request, API, []));
  } else if (url.pathname.startsWith("/api/")) {
    return;
  } else if (request.mode === "navigate") {
    const page = url.pathname.startsWith("/runs/") ? "/runs/_" : url.pathname;
    event.respondWith(networkFirst(request, SHELL, [page, "/"]));
  } else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/icons/")) {
    event.respondWith(cacheFirst(request));
  }
});

/** The /phone page asked for it (outbox.js ``askForSync``) and the network is back. A failure leaves the runs in
    the outbox and rejects, so the browser tries again later; the page, when open, is told to show what is left. */
self.addEventListener("sync", (event) => {
  const O = self.SolewareOutbox;
  if (event.tag !== O.SYNC_TAG) return;
  event.waitUntil(
    O.exclusive(O.uploadAll).then(async (outcome) => {
      for (const client of await self.clients.matchAll({ type: "window" })) {
        client.postMessage({ type: "soleware-outbox", outcome });
      }
      if (outcome === "retry") throw new Error("the run service was not reached; the browser retries later");
    }),
  );
});
