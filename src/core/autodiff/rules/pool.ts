/** Pooling. MaxPool routes each gradient to the arg-max of its window (first one on ties). */
import type { Rule } from '../types';
import { UnsupportedGradientError } from '../types';

export const MaxPool: Rule = ({ b, node }, [dy]) => {
  const X = node.inputs[0]!;
  const k = node.attrs.kernel_shape!.value as number[];
  const strides = (node.attrs.strides?.value as number[] | undefined) ?? k.map(() => 1);
  const pads = (node.attrs.pads?.value as number[] | undefined) ?? [];
  const [, c, h, w] = b.shape(X);
  const ok =
    k.length === 2 && strides.every((s, i) => s === k[i]) && pads.every((p) => p === 0) && node.outputs.length === 1;
  if (!ok || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number' || h % k[0]! || w % k[1]!) {
    throw new UnsupportedGradientError(
      `MaxPool gradient supports non-overlapping windows without padding on divisible sizes (${node.name})`,
    );
  }
  const [kh, kw] = k as [number, number];
  const [ho, wo] = [h / kh, w / kw];
  // Windows as a last axis: (N, C, Ho, Wo, kh·kw).
  const windows = b.reshape(b.transpose(b.reshape(X, [0, c, ho, kh, wo, kw]), [0, 1, 2, 4, 3, 5]), [
    0,
    c,
    ho,
    wo,
    kh * kw,
  ]);
  const arg = b.argMax(windows, -1, true);
  const positions = b.constant(
    { dtype: 'int64', dims: [kh * kw], data: BigInt64Array.from({ length: kh * kw }, (_, i) => BigInt(i)) },
    'window_pos',
  );
  const mask = b.cast(b.equal(arg, positions), b.dtype(X));
  const routed = b.mul(mask, b.unsqueeze(dy!, [-1]));
  return [b.reshape(b.transpose(b.reshape(routed, [0, c, ho, wo, kh, kw]), [0, 1, 2, 4, 3, 5]), [0, c, h, w])];
};

// Every input position receives dY / (H·W) of its channel.
export const GlobalAveragePool: Rule = ({ b, node }, [dy]) => {
  const X = node.inputs[0]!;
  const hw = b.shape(X).slice(2);
  if (!hw.every((d) => typeof d === 'number'))
    throw new UnsupportedGradientError(`GlobalAveragePool gradient needs static spatial dims (${node.name})`);
  const spatial = hw.reduce((p, q) => p * q, 1);
  return [b.expandLike(b.div(dy!, b.scalar(spatial)), X)];
};
