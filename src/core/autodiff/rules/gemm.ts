/** Gemm (Y = α·A'·B' + β·C) and MatMul. */
import { readAttrs } from '../../onnx/ir';
import type { Rule } from '../types';

export const Gemm: Rule = ({ b, node, needs }, [dy]) => {
  const [A, B, C] = node.inputs as [string, string, string | undefined];
  const at = readAttrs(node);
  const alpha = at.float('alpha', 1);
  const beta = at.float('beta', 1);
  const tA = at.int('transA', 0);
  const tB = at.int('transB', 0);
  // dA' = α·dY·B'ᵀ ; dB' = α·A'ᵀ·dY ; each transposed back when the op transposed its input.
  const dA = !needs[0]
    ? null
    : tA
      ? b.gemm(B, dy!, undefined, { alpha, transA: tB, transB: 1 })
      : b.gemm(dy!, B, undefined, { alpha, transB: 1 - tB });
  const dB = !needs[1]
    ? null
    : tB
      ? b.gemm(dy!, A, undefined, { alpha, transA: 1, transB: tA })
      : b.gemm(A, dy!, undefined, { alpha, transA: 1 - tA });
  const dC = C && needs[2] ? (beta === 1 ? dy! : b.mul(dy!, b.scalar(beta))) : null;
  return C ? [dA, dB, dC] : [dA, dB];
};

function swapLast(b: Parameters<Rule>[0]['b'], x: string): string {
  const r = b.shape(x).length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return b.transpose(x, perm);
}

// dA = dY·Bᵀ, dB = Aᵀ·dY (batch broadcasting is reduced by the driver).
export const MatMul: Rule = ({ b, node, needs }, [dy]) => {
  const [A, B] = node.inputs as [string, string];
  return [needs[0] ? b.matmul(dy!, swapLast(b, B)) : null, needs[1] ? b.matmul(swapLast(b, A), dy!) : null];
};
