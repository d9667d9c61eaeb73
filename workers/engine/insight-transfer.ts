/**
 * What the engine worker transfers (not copies) back to the page for the insight calls: the channel
 * maps, every filter picture and the heatmaps. Each result is paired with its transfer list; an array
 * that is only a view into a bigger (or shared) buffer is copied first, so transferring it detaches
 * nothing the engine still uses.
 */
import type { ActivationMaps, DeletionResult, Explanation, FilterResult } from './protocol';

export interface Transferring<T> {
  value: T;
  transfer: ArrayBuffer[];
}

function owned(a: Float32Array): Float32Array<ArrayBuffer>;
function owned(a: Uint8ClampedArray): Uint8ClampedArray<ArrayBuffer>;
function owned(a: Float32Array | Uint8ClampedArray): Float32Array<ArrayBuffer> | Uint8ClampedArray<ArrayBuffer> {
  const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return (whole ? a : a.slice()) as Float32Array<ArrayBuffer> | Uint8ClampedArray<ArrayBuffer>;
}

export function activationsTransfer(maps: ActivationMaps): Transferring<ActivationMaps> {
  const data = owned(maps.data);
  return { value: { ...maps, data }, transfer: [data.buffer] };
}

export function filtersTransfer(result: FilterResult): Transferring<FilterResult> {
  const pictures = result.pictures.map((p) => ({ ...p, image: { ...p.image, data: owned(p.image.data) } }));
  // Two pictures never share a buffer after owned(), but a list must not name one twice.
  return { value: { ...result, pictures }, transfer: [...new Set(pictures.map((p) => p.image.data.buffer))] };
}

export function explanationTransfer(e: Explanation): Transferring<Explanation> {
  const data = owned(e.heatmap.data);
  return { value: { ...e, heatmap: { ...e.heatmap, data } }, transfer: [data.buffer] };
}

export function deletionTransfer(result: DeletionResult): Transferring<DeletionResult> {
  const { value: explanation, transfer } = explanationTransfer(result.explanation);
  return { value: { ...result, explanation }, transfer };
}
