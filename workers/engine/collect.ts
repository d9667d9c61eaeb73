/**
 * Getting shard bytes collected soon after onnxruntime has copied them into its own memory. The
 * engine reads a model's shards (138 MB int8, 553 MB fp32) into JS buffers only to hand them to a
 * session's creation; left to itself V8 collects them whenever it next runs a full collection, which
 * may be long after the frames have added their own memory, so the two add up in the peak. The engine
 * drops them (no closure may name them: V8 gives a scope's closures one shared context), asks for a
 * collection, and, where it reads more right after, waits for it.
 */

/** What collectShardGarbage allocates: see there. */
const NUDGE_BYTES = 256 * 2 ** 20;

/**
 * Has the JS engine collect shard bytes just dropped now, not at its next full collection, which may
 * come long after the first frames have added their own memory (Chromium keeps dropped shards resident
 * for seconds). Detaching the buffers would not free them: WebCrypto's
 * digest (every read is verified) wraps them in a Blink object that keeps their memory until a
 * collection. So: allocate a large ArrayBuffer and drop it. Its pages are never touched (the OS maps
 * them lazily, so it costs address space, not memory), but V8 counts it as external memory, and this
 * much at once makes it run a full collection (Chromium and Node). Call it where the bytes are out of
 * scope: a suspended async function's locals keep theirs alive. Says whether it could allocate.
 */
export function collectShardGarbage(): boolean {
  try {
    return new ArrayBuffer(NUDGE_BYTES).byteLength === NUDGE_BYTES;
  } catch {
    return false; // No address space for it: the collector will get there on its own.
  }
}

/**
 * Before the live view's sessions open again after a training: a run leaves its states, features and
 * step outputs (hundreds of MB) as garbage, and the sessions' shards and first frames would otherwise
 * come on top of them. Asks for a collection and lets it run (one task) before they open.
 */
export async function afterTraining(): Promise<void> {
  collectShardGarbage();
  await new Promise((r) => setTimeout(r, 0));
}

/** Registries waiting on buffers (whenCollected): a registry nobody holds may be collected before it calls back. */
const waiting = new Set<FinalizationRegistry<null>>();

/**
 * Resolves once the JS engine has collected the buffers of `bytes`, which it holds weakly: made where
 * the bytes were read, it lets the caller wait for them without holding them.
 */
export function whenCollected(bytes: Iterable<Uint8Array>): Promise<void> {
  const watch = countdown();
  for (const buffer of new Set([...bytes].map((b) => b.buffer))) watch.add(buffer);
  return watch.done();
}

/**
 * A countdown of objects to be collected, made apart from them: a closure made in whenCollected's
 * scope would share its context, and so hold the very bytes it waits for.
 */
function countdown(): { add(target: object): void; done(): Promise<void> } {
  let left = 0;
  let resolve = () => {};
  const registry = new FinalizationRegistry<null>(() => {
    if (--left === 0) resolve();
  });
  waiting.add(registry);
  return {
    add(target) {
      left++;
      registry.register(target, null);
    },
    done: () =>
      new Promise<void>((r) => {
        resolve = () => (waiting.delete(registry), r());
        if (left === 0) resolve();
      }),
  };
}

/** How long `collected` waits, at most (a full collection takes a small fraction of this). */
const COLLECT_WAIT_MS = 250;

/** collectShardGarbage, then waits until `gone` (whenCollected) resolves, or COLLECT_WAIT_MS; says whether it did. */
export async function collected(gone: Promise<void>): Promise<boolean> {
  collectShardGarbage();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), COLLECT_WAIT_MS)));
  try {
    return await Promise.race([gone.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
