/**
 * The generated training step (forward + loss + backward + optimizer update in ONE graph) against a
 * plain float64 reference (reference.ts): the loss and accuracy, every parameter's gradient against
 * central finite differences of the reference loss, and the updated parameters and slots against the
 * reference optimizer applied to those finite-difference gradients. Small shapes so every element
 * is checked; the same builders make the full-size graphs.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSpec, TrunkSpec } from '../../../src/core/train/graphs';
import { buildEval, buildTrainStep, gradName, modelParams, nextName, TRAIN_IO } from '../../../src/core/train/graphs';
import type { HeadKind } from '../../../src/core/train/heads';
import { HEAD_PARAM, headSpec } from '../../../src/core/train/heads';
import type { OptimizerKind } from '../../../src/core/train/optim';
import { optimizer, slotNames } from '../../../src/core/train/optim';
import { compile, mulberry32, uniform } from '../../helpers/ort';
import type { Tensors } from './reference';
import { adamStep, referenceLogits, referenceLoss, relErr, rmspropStep } from './reference';

const BATCH = 5;
const CLASSES = 3;

function model(kind: HeadKind, trunk: boolean): ModelSpec {
  const t: TrunkSpec | undefined = trunk
    ? {
        layers: [
          { name: 'block5_conv1', cin: 3, cout: 4 },
          { name: 'block5_conv2', cin: 4, cout: 4 },
        ],
        inputShape: [3, 4, 4],
      }
    : undefined;
  return { head: headSpec(kind, CLASSES, trunk ? [4, 2, 2] : [4, 3, 3], { hidden: 6 }), trunk: t };
}

/** Central differences of the float64 reference loss for every element of every parameter. */
function fdGradients(
  m: ModelSpec,
  t: Tensors,
  batch: Parameters<typeof referenceLoss>[2],
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  const h = 1e-6;
  for (const p of modelParams(m)) {
    const base = Float64Array.from(t[p.name]!);
    out[p.name] = base.map((_, i) => {
      const plus = base.slice();
      const minus = base.slice();
      plus[i] = base[i]! + h;
      minus[i] = base[i]! - h;
      return (
        (referenceLoss(m, { ...t, [p.name]: plus }, batch) - referenceLoss(m, { ...t, [p.name]: minus }, batch)) /
        (2 * h)
      );
    });
  }
  return out;
}

describe.each([
  { kind: 'dense' as const, trunk: false, opt: 'rmsprop' as const },
  { kind: 'gap' as const, trunk: false, opt: 'adam' as const },
  { kind: 'dense' as const, trunk: true, opt: 'rmsprop' as const },
  { kind: 'gap' as const, trunk: true, opt: 'adam' as const },
  // The trunk's convs rewritten as Winograd, then differentiated (the trainer fine-tunes on plain ones).
  { kind: 'dense' as const, trunk: true, opt: 'rmsprop' as const, winograd: true },
])(
  'train step: $kind head, trunk $trunk, $opt, winograd $winograd',
  ({
    kind,
    trunk,
    opt,
    winograd: wino,
  }: {
    kind: HeadKind;
    trunk: boolean;
    opt: OptimizerKind;
    winograd?: boolean;
  }) => {
    const winograd = wino ? { minChannels: 1 } : undefined;
    const m = model(kind, trunk);
    const spec = optimizer(opt);
    const rng = mulberry32(kind === 'dense' ? 11 : 12);
    const inShape = m.trunk ? m.trunk.inputShape : m.head.featureShape;
    const per = inShape.reduce((a, b) => a * b, 1);
    const c = m.head.featureShape[0];
    const t: Record<string, Float32Array> = {
      [HEAD_PARAM.normMean]: uniform(rng, c, -0.5, 0.5),
      [HEAD_PARAM.normScale]: uniform(rng, c, 0.5, 2),
    };
    for (const p of modelParams(m))
      t[p.name] = uniform(
        rng,
        p.dims.reduce((a, b) => a * b, 1),
        -0.6,
        0.6,
      );
    const features = uniform(rng, BATCH * per, 0, 2);
    const labels = [0, 2, 1, 2, 0];
    const onehot = new Float32Array(BATCH * CLASSES);
    labels.forEach((l, i) => (onehot[i * CLASSES + l] = 1));
    const hidden = m.head.hidden;
    const mask = Float32Array.from({ length: BATCH * hidden }, () => (rng() < 0.5 ? 0 : 2));
    const batch = labels.map((label, i) => ({
      features: features.subarray(i * per, (i + 1) * per),
      label,
      mask: kind === 'dense' ? mask.subarray(i * hidden, (i + 1) * hidden) : undefined,
    }));
    const slots: Record<string, Float32Array> = {};
    for (const p of modelParams(m))
      slotNames(spec, p.name).forEach((s) => (slots[s] = uniform(rng, t[p.name]!.length, 0.01, 0.1)));
    const lr = 0.01;
    const step = 2;

    it('matches the float64 reference: loss, accuracy, gradients (finite differences), updates', async () => {
      const g = buildTrainStep(m, spec, { exposeGradients: true, winograd });
      if (wino) expect(g.graph.nodes.some((n) => n.name.includes('wino'))).toBe(true);
      const r = await compile(g.graph, {
        [TRAIN_IO.features]: [BATCH, ...inShape],
        [TRAIN_IO.labels]: [BATCH, CLASSES],
        [TRAIN_IO.mask]: [BATCH, hidden],
      });
      const feeds: Record<string, Float32Array> = {
        ...t,
        ...slots,
        [TRAIN_IO.features]: features,
        [TRAIN_IO.labels]: onehot,
        [TRAIN_IO.lr]: Float32Array.of(lr),
      };
      if (kind === 'dense') feeds[TRAIN_IO.mask] = mask;
      if (opt === 'adam') feeds[TRAIN_IO.step] = Float32Array.of(step);
      const out = await r.run(feeds);

      const loss = referenceLoss(m, t, batch);
      expect(Math.abs(out[TRAIN_IO.loss]![0]! - loss) / loss).toBeLessThan(1e-5);
      const hits = batch.filter((s) => {
        const z = referenceLogits(m, t, s.features, s.mask);
        return z.indexOf(Math.max(...z)) === s.label;
      }).length;
      expect(out[TRAIN_IO.accuracy]![0]).toBeCloseTo(hits / BATCH, 6);

      const fd = fdGradients(m, t, batch);
      for (const p of modelParams(m)) {
        const got = out[gradName(p.name)]!;
        const want = fd[p.name]!;
        expect(got.length).toBe(want.length);
        expect(want.some((v) => v !== 0)).toBe(true);
        const err = Math.hypot(...Array.from(got, (v, i) => v - want[i]!)) / Math.hypot(...want);
        expect(err, `gradient of ${p.name}`).toBeLessThan(1e-4);

        const names = slotNames(spec, p.name);
        const ref =
          spec.kind === 'adam'
            ? (() => {
                const a = adamStep(t[p.name]!, want, slots[names[0]!]!, slots[names[1]!]!, lr, step);
                return { p: a.p, slots: [a.m, a.v] };
              })()
            : (() => {
                const a = rmspropStep(t[p.name]!, want, slots[names[0]!]!, lr);
                return { p: a.p, slots: [a.v] };
              })();
        expect(relErr(out[nextName(p.name)]!, ref.p), `updated ${p.name}`).toBeLessThan(1e-5);
        names.forEach((s, i) => expect(relErr(out[nextName(s)]!, ref.slots[i]!), `updated ${s}`).toBeLessThan(1e-4));
      }
    });

    it('the eval graph gives the reference logits without dropout', async () => {
      const r = await compile(buildEval(m, { winograd }), { [TRAIN_IO.features]: [BATCH, ...inShape] });
      const out = (await r.run({ ...t, [TRAIN_IO.features]: features }))[TRAIN_IO.logits]!;
      const want = batch.flatMap((s) => Array.from(referenceLogits(m, t, s.features)));
      expect(relErr(out, want)).toBeLessThan(1e-5);
    });
  },
);

describe('the step graph', () => {
  it('writes the updated parameters and optimizer slots from their update nodes, without a copy', () => {
    for (const kind of ['rmsprop', 'adam'] as const) {
      const spec = optimizer(kind);
      const m: ModelSpec = { head: headSpec('dense', 3, [8, 2, 2]) };
      const { graph } = buildTrainStep(m, spec, { exposeGradients: true });
      const names = modelParams(m)
        .flatMap((p) => [p.name, ...slotNames(spec, p.name)])
        .map(nextName);
      for (const name of names) {
        expect(graph.outputs.map((o) => o.name)).toContain(name);
        const producer = graph.nodes.find((n) => n.outputs.includes(name));
        expect(producer?.op, `${kind}: ${name}`).not.toBe('Identity');
      }
    }
  });
});
