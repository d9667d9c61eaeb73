/**
 * The conversion row's page side: the app's model library (workers/engine/library) imports the full-size
 * safetensors file by URL, converting it while it streams into IndexedDB, as "Get ImageNet weights" does;
 * the driver reads the renderer's peak memory across it. The model is deleted after, to free the storage.
 */
import { IdbModelLibrary } from '../../../workers/engine/library/library';
import { page } from './globals';
import type { ConvertResult } from './protocol';

export async function convertUrl(url: string): Promise<ConvertResult> {
  const lib = new IdbModelLibrary({ dbName: 'convlens-bench-convert', baseHref: page.location.href });
  const t0 = performance.now();
  let downloadMs = 0;
  const model = await lib.importFromUrl({ url }, (p) => {
    if (p.phase === 'verify' && !downloadMs) downloadMs = performance.now() - t0;
  });
  const ms = performance.now() - t0;
  const stored = model.parts.reduce((n, p) => n + p.stored, 0);
  await lib.deleteModel(model.id);
  lib.conn.close();
  return { ms, downloadMs, id: model.id, ready: model.ready, storedBytes: stored };
}
