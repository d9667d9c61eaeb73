/** What the UI needs to know about a model bundle before the engine downloads it. */
import { DEMO_MODEL_ID } from './library/state';

/** The demo bundle's folder, next to the app (works from a sub-path). */
export function demoBaseUrl(baseUri: string): string {
  return new URL(`models/${DEMO_MODEL_ID}/`, baseUri).href;
}

/** Total bytes of a manifest's parts; undefined unless it looks like a bundle manifest. */
export function manifestBytes(manifest: unknown): number | undefined {
  const parts = (manifest as { parts?: unknown } | null)?.parts;
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  let total = 0;
  for (const part of parts) {
    const bytes = (part as { bytes?: unknown } | null)?.bytes;
    if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return undefined;
    total += bytes;
  }
  return total;
}

/** The bundle's size from its manifest, to show the storage needed before downloading; undefined offline. */
export async function fetchBundleBytes(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<number | undefined> {
  try {
    const res = await fetchFn(new URL('manifest.json', baseUrl).href, { cache: 'no-cache' });
    if (!res.ok) return undefined;
    return manifestBytes(await res.json());
  } catch {
    return undefined;
  }
}
