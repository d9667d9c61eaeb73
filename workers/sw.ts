/**
 * The service worker (Workbox InjectManifest injects the precache list at build time; the injection
 * point appears once only, below — workbox #2681).
 *
 * - Precaches the app shell and the self-hosted onnxruntime-web runtime, so the app starts offline.
 *   Model bundles are never precached or touched: the engine worker downloads them into IndexedDB,
 *   verifying every shard, so `models/` requests go straight to the network.
 * - Navigations fall back to the precached index.html when offline.
 * - Adds COOP/COEP (and CORP) headers to what it serves, so the page becomes cross-origin isolated —
 *   and the engine can use WASM threads — even on static hosts that cannot set headers. It takes
 *   effect from the first navigation the worker controls (a reload after the first visit).
 * - Never skips waiting on its own (workbox #2474: old and new versions mixed after a deploy): a new
 *   version waits until the UI, after the user accepted, posts `{ type: 'SKIP_WAITING' }`.
 */
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import type { PrecacheEntry } from 'workbox-precaching';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

/** The message the UI posts when the user accepts an update. */
const SKIP_WAITING = 'SKIP_WAITING';

const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A copy of `response` with the isolation headers added where the server did not send them. */
function withIsolationHeaders(response: Response): Response {
  // Opaque, error and redirect responses cannot be rebuilt; nor does a same-origin app need them to be.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const missing = Object.keys(ISOLATION_HEADERS).filter((h) => !response.headers.has(h));
  if (!missing.length) return response;
  const headers = new Headers(response.headers);
  for (const h of missing) headers.set(h, ISOLATION_HEADERS[h]!);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

addPlugins([{ handlerWillRespond: async ({ response }) => withIsolationHeaders(response) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Any other navigation inside the scope (e.g. `./?source=pwa`) gets the app shell; models never do.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/\/models\//] }));

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data: unknown = event.data;
  if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === SKIP_WAITING) {
    void self.skipWaiting();
  }
});

// Taking control of open pages is safe here: a new version only activates after the user accepted
// the update (or every tab closed), and the UI reloads on `controllerchange`.
self.addEventListener('activate', (event: ExtendableEvent) => event.waitUntil(self.clients.claim()));
