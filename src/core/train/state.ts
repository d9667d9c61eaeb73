/**
 * A TrainState as one byte array (for a file, or a store without structured clone): JSON with every
 * Float32Array replaced by {"$f32": [offset, length]} into a float32 little-endian blob.
 *
 *   "CLNSTRN\n" · uint32 LE JSON length · JSON · zero padding to 4 · blob
 *
 * In IndexedDB the state is stored as is (structured clone keeps Float32Arrays).
 */
import { TrainStateMismatchError } from './errors';
import type { TrainState } from './request';

const MAGIC = [0x43, 0x4c, 0x4e, 0x53, 0x54, 0x52, 0x4e, 0x0a]; // "CLNSTRN\n"

export function encodeTrainState(state: TrainState): Uint8Array {
  const arrays: Float32Array[] = [];
  let floats = 0;
  const json = JSON.stringify(state, (_k, v: unknown) => {
    if (v instanceof Float32Array) {
      arrays.push(v);
      const ref = { $f32: [floats, v.length] };
      floats += v.length;
      return ref;
    }
    return v;
  });
  const text = new TextEncoder().encode(json);
  const start = (12 + text.length + 3) & ~3;
  const out = new Uint8Array(start + floats * 4);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(8, text.length, true);
  out.set(text, 12);
  const blob = new Float32Array(out.buffer, start, floats);
  let at = 0;
  for (const a of arrays) {
    blob.set(a, at);
    at += a.length;
  }
  return out;
}

export function decodeTrainState(bytes: Uint8Array): TrainState {
  const bad = (): never => {
    throw new TrainStateMismatchError('not a convlens training state (wrong or damaged file): start a new training');
  };
  if (bytes.length < 12 || !MAGIC.every((b, i) => bytes[i] === b)) bad();
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) bad();
  const start = (12 + len + 3) & ~3;
  const blob = new Float32Array(new Uint8Array(bytes.subarray(start)).buffer);
  let state: unknown;
  try {
    state = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)), (_k, v: unknown) => {
      const ref = (v as { $f32?: unknown } | null)?.$f32;
      if (!Array.isArray(ref)) return v;
      const [offset, length] = ref as [number, number];
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || offset + length > blob.length) bad();
      return blob.slice(offset, offset + length);
    });
  } catch (e) {
    if (e instanceof TrainStateMismatchError) throw e;
    bad();
  }
  if ((state as { version?: unknown } | null)?.version !== 1) bad();
  return state as TrainState;
}
