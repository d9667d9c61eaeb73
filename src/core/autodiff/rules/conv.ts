/** Conv: the input gradient is a ConvTranspose, the weight gradient a Conv of input by output gradient. */
import { readAttrs } from '../../onnx/ir';
import { AUTO_PADS, windowPads } from '../../onnx/shape';
import { UnsupportedGradientError } from '../errors';
import type { Rule } from '../types';

export const Conv: Rule = ({ b, node, needs }, [dy]) => {
  const [X, W, B] = node.inputs as [string, string, string | undefined];
  const [, , ...k] = b.staticShape(W);
  const n = k.length;
  const at = readAttrs(node);
  const strides = at.ints(
    'strides',
    k.map(() => 1),
  );
  const dil = at.ints(
    'dilations',
    k.map(() => 1),
  );
  if (at.int('group', 1) !== 1 || dil.some((d) => d !== 1)) {
    throw new UnsupportedGradientError(`Conv gradient supports group = 1 and dilation 1 (node ${node.name})`);
  }
  const xs = b.shape(X).slice(2);
  const ys = b.shape(node.outputs[0]!).slice(2);
  if (!xs.every((d) => typeof d === 'number'))
    throw new UnsupportedGradientError(`Conv gradient needs static spatial dims (${node.name})`);
  const [xsp, ysp] = [xs as number[], ys as number[]];
  // auto_pad as the explicit pads it stands for; the gradient Conv/ConvTranspose take explicit pads.
  const autoPad = at.oneOf('auto_pad', AUTO_PADS, 'NOTSET');
  const pads = windowPads(
    autoPad,
    xsp,
    k,
    strides,
    dil,
    at.ints(
      'pads',
      [...k, ...k].map(() => 0),
    ),
  );

  // dX = ConvTranspose(dY, W); output_padding restores rows the forward stride dropped.
  let dX: string | null = null;
  if (needs[0]) {
    const output_padding = xsp.map((h, i) => h - (strides[i]! * (ysp[i]! - 1) + k[i]! - pads[i]! - pads[i + n]!));
    dX = b.convTranspose(dy!, W, { strides, pads, output_padding });
  }

  // dW[o,c,i,j] = Σ_{n,y,x} dY[n,o,y,x]·Xpad[n,c,y·s+i,x·s+j]: a Conv with batch and channels swapped,
  // dY as the kernel dilated by the stride; any extra rows from the floor in the forward are sliced off.
  let dW: string | null = null;
  if (needs[1]) {
    const perm = [1, 0, ...k.map((_, i) => i + 2)];
    const xt = b.transpose(X, perm);
    const dyt = b.transpose(dy!, perm);
    const tmp = b.node(
      'Conv',
      [xt, dyt],
      {
        kernel_shape: { type: 'ints', value: ysp },
        pads: { type: 'ints', value: pads },
        dilations: { type: 'ints', value: strides },
        strides: { type: 'ints', value: k.map(() => 1) },
      },
      [
        {
          dtype: b.dtype(X),
          shape: [
            b.shape(X)[1]!,
            b.staticShape(W)[0]!,
            ...xsp.map((h, i) => h + pads[i]! + pads[i + n]! - (ysp[i]! - 1) * strides[i]!),
          ],
        },
      ],
    )[0]!;
    const full = b.shape(tmp).slice(2) as number[];
    const cut = full.some((f, i) => f !== k[i])
      ? b.slice(
          tmp,
          k.map(() => 0),
          k,
          k.map((_, i) => i + 2),
        )
      : tmp;
    dW = b.transpose(cut, perm);
  }

  const dB = B && needs[2] ? b.reduce('ReduceSum', dy!, [0, ...k.map((_, i) => i + 2)], false) : null;
  return B ? [dX, dW, dB] : [dX, dW];
};
