/**
 * The ImageNet live view's graph as two onnxruntime sessions (buildLiveGraphs): the conv base
 * (image → block5_conv3; splitAt's `front`) and the head (block5_conv3, target → top-5, heatmap;
 * splitAt's `back`). Here they are the base and the head.
 * A frame runs one, then the other on its output (one 1×512×14×14 tensor crosses).
 *
 * Why two: on WASM the fast base is the Winograd rewrite, but its session folds the Winograd kernels
 * (4× the conv weights, through a Gemm) at creation, and on a cold runtime — every page load, since
 * the runtime is compiled from bytes (runtime.ts) — that and the first run on not-yet-optimised code
 * are most of the wait for the first heatmap. So the first frame runs a plain-conv base (nothing to
 * fold), and the second frame first builds the Winograd base and swaps it in; the head, with its 500 MB of
 * dense weights, is created once and never twice. Both bases compute the same function (the
 * Winograd rewrite is checked against plain Conv in test/unit/onnx/winograd.test.ts).
 *
 * The Winograd base is itself a chain of sessions of at most one large layer each (splitByWeights), built
 * largest first: a session's build holds its folded kernels about three times over, so one session for
 * the whole base would set the live view's peak memory; seven pieces cost frames almost nothing.
 */
import * as ort from 'onnxruntime-web';
import { IO } from '../../src/core/graphs/analyze';
import type { Graph } from '../../src/core/onnx/ir';
import { openPieces, PIECE_WEIGHTS, splitByWeights } from '../../src/core/onnx/split';
import { winogradRewrite } from '../../src/core/onnx/winograd';

/** How a base graph becomes a session (the caller supplies options and external data). */
export type OpenGraph = (graph: Graph) => Promise<ort.InferenceSession>;

/** Given the plain base, how its Winograd pieces become sessions (what they read is read once, for all). */
export type ReopenBase = (plain: Graph) => Promise<OpenGraph>;

/** What a live frame runs: the same feeds and outputs as the fused live graph's session. */
export interface LiveRunner {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
}

export class LiveSessions implements LiveRunner {
  /** Which base runs now: 'plain' until the Winograd base replaces it ('winograd'), or 'final'. */
  form: 'plain' | 'winograd' | 'final';
  /** Why the Winograd base could not be built (the plain base stays: slower, same results). */
  upgradeError: Error | undefined;
  private upgrading: Promise<void> | undefined;
  private ran = false;

  private constructor(
    /** The base: one session (plain), or a chain of them (Winograd); empty only while it is being
     *  replaced, or if no base could be reopened. */
    private base: ort.InferenceSession[],
    private readonly head: ort.InferenceSession | undefined,
    private readonly cut: string,
    /** The plain base, kept until its Winograd form is built. */
    private plainBase: Graph | undefined,
    private readonly reopen: ReopenBase | undefined,
    private readonly pieceWeights: number,
  ) {
    this.form = reopen ? 'plain' : 'final';
  }

  /**
   * Sessions for the two halves (`open`). With `reopen` (WASM), the base starts plain and the second
   * frame first builds its Winograd form with it; without (WebGPU: its conv shaders gain nothing
   * from Winograd), the plain base stays. Without a head, a frame returns the base's output
   * (the benchmark's base-only cold start). `pieceWeights`: see PIECE_WEIGHTS.
   */
  static async create(
    halves: { front: Graph; back?: Graph; cut: string },
    open: OpenGraph,
    reopen?: ReopenBase,
    pieceWeights = PIECE_WEIGHTS,
  ): Promise<LiveSessions> {
    const head = halves.back && (await open(halves.back));
    const base = await open(halves.front).catch(async (e: unknown) => {
      await head?.release();
      throw e;
    });
    return new LiveSessions([base], head, halves.cut, halves.front, reopen, pieceWeights);
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    // From the second frame on, the Winograd base (a one-shot caller never pays for building it).
    if (this.ran && this.form === 'plain') await (this.upgrading ??= this.upgrade());
    this.ran = true;
    const { [IO.image]: image, ...rest } = feeds;
    if (!this.base.length) throw this.upgradeError ?? new Error('the live view has no base session');
    let out: Record<string, ort.Tensor> = { [IO.image]: image! };
    for (const [i, piece] of this.base.entries()) {
      const next = await piece.run(Object.fromEntries(piece.inputNames.map((n) => [n, out[n]!])));
      if (i > 0) for (const t of Object.values(out)) t.dispose();
      out = next;
    }
    if (!this.head) return out;
    const a = out[this.cut]!;
    try {
      return await this.head.run({ ...rest, [this.cut]: a });
    } finally {
      a.dispose();
    }
  }

  async release(): Promise<void> {
    await this.upgrading;
    await Promise.all([...this.base, this.head].map((s) => s?.release()));
  }

  /**
   * The plain base goes first, then the Winograd base is built: onnxruntime's WASM heap never
   * shrinks, and building while the plain session is alive would add its weights and buffers to the
   * peak. If the build fails, the plain base is opened again (slower frames, same results); if even
   * that fails, frames fail with the first error.
   */
  private async upgrade(): Promise<void> {
    const plain = this.plainBase!;
    this.plainBase = undefined;
    const old = this.base;
    this.base = [];
    await Promise.all(old.map((s) => s.release()));
    let open: OpenGraph | undefined;
    try {
      open = await this.reopen!(plain);
      const opened = open;
      this.base = await openPieces(splitByWeights(plain, this.pieceWeights), (g) => opened(winogradRewrite(g)));
      this.form = 'winograd';
    } catch (e) {
      this.upgradeError = e instanceof Error ? e : new Error(String(e));
      this.form = 'final';
      // The plain base again, if its files could be read; otherwise frames fail with the first error.
      this.base = open
        ? await open(plain).then(
            (s) => [s],
            () => [],
          )
        : [];
    }
  }
}
