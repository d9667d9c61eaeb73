/**
 * `convlens model build --weights <URL | file.safetensors>`: the file streams through the converter
 * (src/core/vgg16/safetensors.ts) and each finished shard is written at once, so neither the fp32
 * file nor the whole bundle is ever in memory. URLs go through the download cache (resumed with HTTP
 * Range); the manifest is written last, so a folder with a manifest.json has every shard it lists.
 */
import { open, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFormatError, SourceHashError } from '../../core/bundle/errors';
import type { BundleManifest, Quantization } from '../../core/bundle/manifest';
import { createSafetensorsConverter } from '../../core/vgg16/safetensors';
import { MAX_HEADER_BYTES } from '../../core/vgg16/safetensors-header';
import type { VggConfig } from '../../core/vgg16/spec';
import { WeightsMismatchError } from '../../core/vgg16/spec';
import { defaultCacheDir, download } from '../download';
import { progressBar } from '../progress';

/** Whether a local file starts like a safetensors file (a plausible header size, then '{'). */
export async function isSafetensors(path: string): Promise<boolean> {
  let f;
  try {
    f = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const b = new Uint8Array(9);
    const { bytesRead } = await f.read(b, 0, 9, 0);
    const v = new DataView(b.buffer);
    const n = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
    return bytesRead === 9 && n >= 2 && n <= MAX_HEADER_BYTES && b[8] === 0x7b;
  } finally {
    await f.close();
  }
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(path)) {
    const b = c as Buffer;
    yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
}

export async function buildFromSafetensors(o: {
  weights: string;
  quant: Quantization;
  cfg: VggConfig;
  id: string;
  out: string;
  cache?: string;
  sha256?: string;
}): Promise<BundleManifest> {
  if (o.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(o.sha256))
    throw new SafetensorsFormatError(`--sha256 must be 64 hex digits, got '${o.sha256}'`);
  const remote = /^https?:\/\//i.test(o.weights);
  const source = remote
    ? await download(o.weights, o.cache ?? defaultCacheDir())
    : { total: (await stat(o.weights)).size, chunks: fileChunks(o.weights), discard: async () => {} };

  // An old manifest would describe other shards than those about to be written.
  await mkdir(o.out, { recursive: true });
  await rm(join(o.out, 'manifest.json'), { force: true });
  const conv = createSafetensorsConverter(
    { id: o.id, quantization: o.quant, config: o.cfg, sha256: o.sha256 },
    async ({ file, bytes }) => writeFile(join(o.out, file), bytes),
  );
  const bar = progressBar(remote ? 'download + convert' : 'convert');
  let manifest: BundleManifest;
  try {
    for await (const chunk of source.chunks) {
      await conv.write(chunk);
      bar.update(conv.offset, conv.totalBytes ?? source.total);
    }
    manifest = await conv.finish();
    bar.end();
  } catch (e) {
    bar.end();
    // A file that is not VGG16 weights (or not the published one) is never kept in the cache.
    if (e instanceof WeightsMismatchError || e instanceof SafetensorsFormatError || e instanceof SourceHashError)
      await source.discard();
    throw e;
  }
  const tmp = join(o.out, 'manifest.json.tmp');
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(o.out, 'manifest.json'));
  return manifest;
}
