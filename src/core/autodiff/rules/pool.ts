/** Pooling. MaxPool routes each gradient to the arg-max of its window (first one on ties). */
import { readAttrs } from '../../onnx/ir';
import { AUTO_PADS, windowPads } from '../../onnx/shape';
import { UnsupportedGradientError } from '../errors';
import type { Rule } from '../types';

export const MaxPool: Rule = ({ b, node }, [dy]) => {
  const X = node.inputs[0]!;
  const at = readAttrs(node);
  const k = at.ints('kernel_shape');
  const ones = k.map(() => 1);
  const strides = at.ints('strides', ones);
  const dil = at.ints('dilations', ones);
  const [, c, h, w] = b.shape(X);
  const unsupported = () =>
    new UnsupportedGradientError(
      `MaxPool gradient supports non-overlapping windows without padding or dilation on divisible sizes (${node.name})`,
    );
  if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') throw unsupported();
  // SAME_* on divisible sizes pads nothing, so it passes the check below.
  const autoPad = at.oneOf('auto_pad', AUTO_PADS, 'NOTSET');
  const pads = windowPads(
    autoPad,
    [h, w],
    k,
    strides,
    dil,
    at.ints(
      'pads',
      [...k, ...k].map(() => 0),
    ),
  );
  const tiles = strides.every((s, i) => s === k[i]) && dil.every((d) => d === 1) && pads.every((p) => p === 0);
  if (k.length !== 2 || !tiles || node.outputs.length !== 1 || h % k[0]! || w % k[1]!) throw unsupported();
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
