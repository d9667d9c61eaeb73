/** The insight code's sessions by key (SessionCache), over the core runtime (src/core/runtime.ts). */
import type { Graph } from '../onnx/ir';
import type { Feed, GraphSession, OpenSession } from '../runtime';

/**
 * Sessions by key, least recently used first out: each session holds its own copy of the weights it
 * reads, so only a few are kept (the activation graphs of three layers, one ascent graph, …), and
 * at most one "heavy" one (a graph with the 124 M-parameter ImageNet head: two of those beside the
 * live session overflow WASM's 4 GB). An evicted session is released once the runs already started
 * on it have finished. Preset sessions (the engine's live graph) are used as they are, never released.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<Tracked>>();
  private readonly heavy = new Set<string>();

  constructor(
    private readonly open: OpenSession,
    readonly capacity = 4,
    private readonly preset: Readonly<Record<string, GraphSession>> = {},
  ) {}

  /** The session for `key`, built with `build()` and opened on first use. */
  async get(key: string, build: () => Graph, o: { heavy?: boolean } = {}): Promise<GraphSession> {
    const fixed = this.preset[key];
    if (fixed) return fixed;
    let s = this.sessions.get(key);
    if (s) {
      this.sessions.delete(key);
      this.sessions.set(key, s);
      return s;
    }
    if (o.heavy) {
      for (const k of this.heavy) this.evict(k);
      this.heavy.add(key);
    }
    s = this.open(build()).then((inner) => new Tracked(inner));
    this.sessions.set(key, s);
    s.catch(() => this.sessions.delete(key));
    while (this.sessions.size > this.capacity) this.evict(this.sessions.keys().next().value as string);
    return s;
  }

  private evict(key: string): void {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    this.heavy.delete(key);
    void s?.then((e) => e.retire()).catch(() => undefined);
  }

  keys(): string[] {
    return [...this.sessions.keys()];
  }

  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.heavy.clear();
    await Promise.all(all.map((s) => s.then((e) => e.retire()).catch(() => undefined)));
  }
}

/** Counts runs in flight so that retiring waits for them. */
class Tracked implements GraphSession {
  private busy = 0;
  private retired = false;
  private released: Promise<void> | undefined;

  constructor(private readonly inner: GraphSession) {}

  async run(feeds: Record<string, Feed>): Promise<Record<string, Feed>> {
    if (this.retired) throw new Error('this insight session was released; ask for it again');
    this.busy++;
    try {
      return await this.inner.run(feeds);
    } finally {
      if (--this.busy === 0 && this.retired) void this.release();
    }
  }

  retire(): Promise<void> {
    this.retired = true;
    return this.busy === 0 ? this.release() : Promise.resolve();
  }

  release(): Promise<void> {
    return (this.released ??= this.inner.release());
  }
}
