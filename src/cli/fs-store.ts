/**
 * Bundles on disk (Node): `<root>/<id>/manifest.json` beside the shard files. The CLI writes them
 * here, and `convlens serve` hands the same folders to the PWA.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleFormatError, MissingShardError } from '../core/bundle/errors';
import type { BundleManifest, BundleStore } from '../core/bundle/manifest';
import { parseManifest } from '../core/bundle/verify';

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A file or folder name that stays inside its folder. */
function checkName(name: string, what: string): void {
  if (!name || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new BundleFormatError(`${what} ${JSON.stringify(name)} is not a plain file or folder name`);
  }
}

export class FsBundleStore implements BundleStore {
  /** `root` holds one folder per bundle, named by its id. */
  constructor(readonly root: string) {}

  async manifest(id: string): Promise<BundleManifest> {
    checkName(id, 'model id');
    const path = join(this.root, id, 'manifest.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (isMissing(e)) {
        throw new MissingShardError(
          path,
          `${path} does not exist: no model bundle there; build one with \`convlens model build\``,
        );
      }
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new BundleFormatError(`${path} is not JSON: the file is damaged; build the model again`);
    }
    return parseManifest(json);
  }

  async shard(id: string, file: string): Promise<Uint8Array> {
    checkName(id, 'model id');
    checkName(file, 'shard');
    const path = join(this.root, id, file);
    try {
      const buf = await readFile(path);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isMissing(e)) {
        throw new MissingShardError(
          path,
          `shard ${path} is missing: the bundle is incomplete; build or download the model again`,
        );
      }
      throw e;
    }
  }
}

/**
 * Write a bundle into `dir` (created if needed): the shards first, the manifest last and through a
 * rename, so a folder with a manifest.json always has every shard the manifest lists.
 */
export async function writeBundle(
  dir: string,
  manifest: BundleManifest,
  shards: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const part of manifest.parts) {
    for (const s of part.shards) {
      checkName(s.file, 'shard');
      const bytes = shards.get(s.file);
      if (!bytes) throw new MissingShardError(s.file, `shard ${s.file} is listed in the manifest but was not built`);
      await writeFile(join(dir, s.file), bytes);
    }
  }
  const tmp = join(dir, 'manifest.json.tmp');
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(dir, 'manifest.json'));
}
