// Imago's service worker ({{ version }}). It keeps only the app shell: public static files
// and the offline page, never a signed-in page (those are `no-store` and always come from
// the network), so nothing of one person is ever served to the next on a shared device.
"use strict";
const VERSION = "{{ version }}";
const SHELL_CACHE = "imago-shell-" + VERSION;
const STATIC_CACHE = "imago-static-" + VERSION;
const SHELL = {{ shell|safe }};
const OFFLINE_URL = {{ offline_url|safe }};
const STATIC_PREFIX = {{ static_prefix|safe }};
const ICON = {{ icon|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL.map(function (url) { return new Request(url, { credentials: "omit" }); })); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("imago-") === 0 && name !== SHELL_CACHE && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isStatic(url) {
  return url.origin === self.location.origin && url.pathname.indexOf(STATIC_PREFIX) === 0;
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: always the network (they are private and never stored); offline, the calm page.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(OFFLINE_URL, { ignoreVary: true });
    }));
    return;
  }
  if (isStatic(url)) {
    // Static files: from the shell at once, else the network (and kept for next time).
    event.respondWith(caches.match(request, { ignoreVary: true }).then(function (kept) {
      return kept || fetch(request).then(function (response) {
        const store = (response.headers.get("Cache-Control") || "").indexOf("no-store") === -1;
        if (response.ok && store) {
          const copy = response.clone();
          caches.open(STATIC_CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
  }
});

// A push names an event and a link, never what anyone wrote (couples/push.py).
self.addEventListener("push", function (event) {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  const title = typeof data.title === "string" ? data.title : "Imago";
  const link = typeof data.url === "string" ? data.url : "/";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.body === "string" ? data.body : "",
    tag: typeof data.tag === "string" ? data.tag : "imago",
    icon: ICON,
    badge: ICON,
    data: { url: link },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;  // only our own pages
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (const w of windows) {
      if (new URL(w.url).pathname === target.pathname && "focus" in w) return w.focus();
    }
    return self.clients.openWindow(target.href);
  }));
});
