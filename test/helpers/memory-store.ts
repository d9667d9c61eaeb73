/** A BundleStore over in-memory bundles, for engine tests without a disk or IndexedDB. */
import type { BundleManifest, BundleStore } from '../../src/core/bundle/manifest';

export class MemoryStore implements BundleStore {
  private readonly bundles = new Map<string, { manifest: BundleManifest; shards: Map<string, Uint8Array> }>();

  add(bundle: { manifest: BundleManifest; shards: Map<string, Uint8Array> }): this {
    this.bundles.set(bundle.manifest.id, bundle);
    return this;
  }

  async manifest(id: string): Promise<BundleManifest> {
    const b = this.bundles.get(id);
    if (!b) throw new Error(`no bundle '${id}'`);
    return b.manifest;
  }

  async shard(id: string, file: string): Promise<Uint8Array> {
    const s = this.bundles.get(id)?.shards.get(file);
    if (!s) throw new Error(`no shard '${file}' in '${id}'`);
    return s;
  }
}
