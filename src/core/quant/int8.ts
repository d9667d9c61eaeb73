/**
 * Symmetric per-output-channel int8 quantization of a kernel (axis 0; conv OIHW or dense (out, in)):
 * for each output channel c, scale_c = max|w| / 127 (a float32), zero point 0, q = round(w / scale_c)
 * in [−127, 127] (−128 is never used, so the range is symmetric). A channel of zeros gets scale 1.
 * Dequantizing is q · scale_c rounded to float32 — exactly what ONNX DequantizeLinear computes with
 * a per-axis scale and zero point 0, so `dequantize` reproduces the graph's weights bit for bit.
 */

export interface QuantizedKernel {
  q: Int8Array;
  /** One float32 scale per output channel (dims[0] of them), each finite and > 0. */
  scale: Float32Array;
}

export class QuantizeError extends Error {
  override name = 'QuantizeError';
}

/** The smallest normal float32: a lower bound on scales, so that w / scale never overflows. */
const MIN_SCALE = 2 ** -126;

function channels(length: number, dims: readonly number[]): { rows: number; cols: number } {
  const rows = dims[0];
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.length < 1 || rows === undefined || rows <= 0 || n !== length) {
    throw new QuantizeError(`kernel of ${length} values does not match dims [${dims.join(', ')}]`);
  }
  return { rows, cols: n / rows };
}

/** Round half to even (as ONNX QuantizeLinear does), so ±x.5 round symmetrically. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizePerChannel(kernel: Float32Array, dims: readonly number[]): QuantizedKernel {
  const { rows, cols } = channels(kernel.length, dims);
  const q = new Int8Array(kernel.length);
  const scale = new Float32Array(rows);
  for (let c = 0; c < rows; c++) {
    const base = c * cols;
    let m = 0;
    for (let i = base; i < base + cols; i++) {
      const a = Math.abs(kernel[i]!);
      if (!(a <= 3.4028234663852886e38)) {
        throw new QuantizeError(`kernel value ${kernel[i]} at channel ${c} is not finite: the weights are corrupt`);
      }
      if (a > m) m = a;
    }
    const s = m === 0 ? 1 : Math.max(Math.fround(m / 127), MIN_SCALE);
    scale[c] = s;
    for (let i = base; i < base + cols; i++) {
      const v = roundHalfEven(kernel[i]! / s);
      q[i] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { q, scale };
}

export function dequantize(q: Int8Array, scale: Float32Array, dims: readonly number[]): Float32Array {
  const { rows, cols } = channels(q.length, dims);
  if (scale.length !== rows) throw new QuantizeError(`${scale.length} scales for ${rows} output channels`);
  const out = new Float32Array(q.length);
  for (let c = 0; c < rows; c++) {
    const s = scale[c]!;
    const base = c * cols;
    for (let i = base; i < base + cols; i++) out[i] = q[i]! * s;
  }
  return out;
}
