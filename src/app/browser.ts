/** The controller's dependencies in a browser: the real worker, camera, storage and service worker. */
import { EngineBridge } from './bridge/bridge';
import { createEngineWorker } from './bridge/worker';
import { fetchBundleBytes } from './bundle';
import { frameReady, grabFrame, startGrabber } from './camera/grabber';
import { CameraSession } from './camera/session';
import type { Controller, ControllerDeps } from './controller';
import { snapshotName, snapshotPng } from './overlay/heat';
import type { Store } from './store';

function settings(): ControllerDeps['settings'] {
  // localStorage throws in some private modes and sandboxed frames; remembering the model is optional.
  return {
    get: (key) => {
      try {
        return localStorage.getItem(key) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set: (key, value) => {
      try {
        localStorage.setItem(key, value);
      } catch {
        /* not remembered: harmless */
      }
    },
  };
}

export function browserDeps(store: Store): ControllerDeps {
  return {
    store,
    createBridge: (callbacks) => new EngineBridge({ createWorker: createEngineWorker, ...callbacks }),
    // Undefined on insecure origins; the session then fails with NotSupportedError, shown as such.
    camera: new CameraSession(navigator.mediaDevices as MediaDevices | undefined),
    baseUri: document.baseURI,
    settings: settings(),
    persistStorage: async () => (await navigator.storage?.persist?.()) ?? false,
    fetchBundleBytes: (baseUrl) => fetchBundleBytes(baseUrl),
    now: () => performance.now(),
    startGrabber,
    // A still (a photo, a paused frame) waits for the first frame of a freshly attached video.
    grabStill: async (video, size) => {
      await frameReady(video as HTMLVideoElement);
      return grabFrame(video, size);
    },
    saveSnapshot: async (video, heat, opacity, label) => {
      const blob = await snapshotPng(video as HTMLVideoElement, heat, opacity);
      const url = URL.createObjectURL(blob);
      const name = snapshotName(label, new Date());
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      link.click();
      return { url, name };
    },
    revokeUrl: (url) => URL.revokeObjectURL(url),
    ...('serviceWorker' in navigator ? { serviceWorker: navigator.serviceWorker } : {}),
    reload: () => location.reload(),
  };
}

/** Keep the controller told about connectivity; returns the function that stops listening. */
export function watchOnline(controller: Controller): () => void {
  const update = (): void => controller.setOnline(navigator.onLine);
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  return () => {
    window.removeEventListener('online', update);
    window.removeEventListener('offline', update);
  };
}
