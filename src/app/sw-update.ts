/**
 * Service-worker updates without mixing versions (workbox #2474): a new version
 * waits until the user accepts; then it is told to skip waiting and the page reloads once it controls.
 */

/** The parts of ServiceWorkerRegistration used here (tests pass fakes). */
export interface RegistrationLike {
  readonly waiting: ServiceWorker | null;
  readonly installing: ServiceWorker | null;
  addEventListener(type: 'updatefound', listener: () => void): void;
  removeEventListener(type: 'updatefound', listener: () => void): void;
}

export interface ContainerLike {
  readonly controller: ServiceWorker | null;
  addEventListener(type: 'controllerchange', listener: () => void): void;
}

/** Registers the service worker InjectManifest emits at the site root; undefined where unsupported. */
export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  if (document.readyState !== 'complete') {
    // After load, so the worker's precaching does not compete with the first paint.
    await new Promise<void>((resolve) => window.addEventListener('load', () => resolve(), { once: true }));
  }
  return navigator.serviceWorker.register(new URL('./sw.js', document.baseURI));
}

/**
 * Calls `onWaiting` with a new version that is installed and waiting, now or later. The first install
 * (no controller yet) is not an update. Returns a function that stops watching.
 */
export function watchForUpdate(
  registration: RegistrationLike,
  container: ContainerLike,
  onWaiting: (worker: ServiceWorker) => void,
): () => void {
  const isUpdate = (): boolean => container.controller !== null;
  if (registration.waiting && isUpdate()) onWaiting(registration.waiting);
  const onUpdateFound = (): void => {
    const installing = registration.installing;
    if (!installing) return;
    installing.addEventListener('statechange', () => {
      if (installing.state === 'installed' && isUpdate()) onWaiting(installing);
    });
  };
  registration.addEventListener('updatefound', onUpdateFound);
  return () => registration.removeEventListener('updatefound', onUpdateFound);
}

/** Activate the waiting version and reload once it has taken control (only once, even if told twice). */
export function applyUpdate(waiting: ServiceWorker, container: ContainerLike, reload: () => void): void {
  let reloaded = false;
  container.addEventListener('controllerchange', () => {
    if (reloaded) return;
    reloaded = true;
    reload();
  });
  waiting.postMessage({ type: 'SKIP_WAITING' });
}
