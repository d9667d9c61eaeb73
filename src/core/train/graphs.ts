/**
 * The generated training graphs. A model is a head on block5_pool features, optionally preceded by
 * the trainable block5 (block5_conv1..3 + block5_pool) on block4_pool features (fine-tuning).
 *
 * Train step (ONE session run): inputs features (N, C, H, W), labels (N, n) one-hot, dropout_mask
 * (N, hidden) for the dense head, lr (and Adam's step) scalars, the head's constants (feature
 * standardisation), every parameter and optimizer slot; outputs
 * loss, accuracy, and `next:<name>` for every parameter and slot. The gradients come from the
 * gradient generator (src/core/autodiff/backward.ts), including the Conv weight gradients.
 * Eval: features + constants + parameters → logits (no dropout), loss and accuracy computed by the caller.
 */
import { backward } from '../autodiff/backward';
import { GraphBuilder } from '../onnx/builder';
import type { Graph } from '../onnx/ir';
import type { WinogradOptions } from '../onnx/winograd';
import { winogradRewrite } from '../onnx/winograd';
import type { VggConfig } from '../vgg16/spec';
import { convLayers } from '../vgg16/spec';
import type { HeadSpec, ParamSpec } from './heads';
import { dropoutWidth, headConstants, headLogits, headParams, lossAndAccuracy } from './heads';
import type { OptimizerSpec } from './optim';
import { emitUpdate, slotNames } from './optim';

export interface ModelSpec {
  head: HeadSpec;
  /** Fine-tuning: the conv layers of the last block, trained on block4_pool features. */
  trunk?: TrunkSpec;
}

export interface TrunkSpec {
  /** block5_conv1..3 (cin, cout). */
  layers: { name: string; cin: number; cout: number }[];
  /** block4_pool's (C, H, W). */
  inputShape: [number, number, number];
}

export const TRAIN_IO = {
  features: 'features',
  labels: 'labels',
  mask: 'dropout_mask',
  lr: 'lr',
  step: 'step',
  loss: 'loss',
  accuracy: 'accuracy',
  logits: 'logits',
} as const;

export const nextName = (name: string) => `next:${name}`;
export const gradName = (name: string) => `grad:${name}`;

/** The last block of `cfg` as a trunk, for an input of `inputSize` pixels. */
export function lastBlockTrunk(cfg: VggConfig, inputSize: number): TrunkSpec {
  const last = cfg.blocks.length;
  const layers = convLayers(cfg)
    .filter((l) => l.block === last)
    .map(({ name, cin, cout }) => ({ name, cin, cout }));
  const size = inputSize / 2 ** (last - 1);
  return { layers, inputShape: [layers[0]!.cin, size, size] };
}

export function trunkParams(t: TrunkSpec): ParamSpec[] {
  return t.layers.flatMap((l) => [
    { name: `${l.name}/kernel`, dims: [l.cout, l.cin, 3, 3] },
    { name: `${l.name}/bias`, dims: [l.cout] },
  ]);
}

/** The trainable tensors, in a fixed order. */
export function modelParams(m: ModelSpec): ParamSpec[] {
  return [...(m.trunk ? trunkParams(m.trunk) : []), ...headParams(m.head)];
}

/** Every tensor a trained model consists of: constants (feature standardisation) then parameters. */
export function modelTensors(m: ModelSpec): ParamSpec[] {
  return [...headConstants(m.head), ...modelParams(m)];
}

/** block5_conv1..3 (3×3 same, ReLU) and the 2×2 max-pool, as vggBase builds them. */
export function trunkForward(b: GraphBuilder, t: TrunkSpec, x: string, param: (name: string) => string): string {
  let h = x;
  for (const l of t.layers) {
    const conv = b.conv(
      h,
      param(`${l.name}/kernel`),
      param(`${l.name}/bias`),
      { pads: [1, 1, 1, 1] },
      `${l.name}_preact`,
    );
    h = b.relu(conv, l.name);
  }
  const block = t.layers[0]!.name.split('_')[0]!;
  return b.maxPool(h, { kernel_shape: [2, 2], strides: [2, 2] }, `${block}_pool`);
}

function inputShape(m: ModelSpec): [number, number, number] {
  return m.trunk ? m.trunk.inputShape : m.head.featureShape;
}

/** Give a value a public name (Identity), for graph outputs. */
function publish(b: GraphBuilder, value: string, name: string): string {
  b.graph.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: {}, name: `${name}__out` });
  b.graph.values.set(name, { ...b.graph.values.get(value)!, name });
  return b.output(name);
}

/**
 * Publishes a value computed by a node of `b` as graph output `name` by renaming it: its producer
 * writes `name` and its readers read it. An Identity would copy it, and the runtime keeps that copy
 * when the value has other readers (an optimizer slot: v feeds the parameter's update too) — a full
 * pass over the parameter per step.
 * The caller must not use `value` afterwards.
 */
function publishByRename(b: GraphBuilder, value: string, name: string): string {
  const producer = b.graph.nodes.find((n) => n.outputs.includes(value));
  if (!producer || b.graph.outputs.some((o) => o.name === value)) return publish(b, value, name);
  const rename = (v: string) => (v === value ? name : v);
  producer.outputs = producer.outputs.map(rename);
  for (const n of b.graph.nodes) n.inputs = n.inputs.map(rename);
  b.graph.values.set(name, { ...b.graph.values.get(value)!, name });
  b.graph.values.delete(value);
  return b.output(name);
}

function forward(b: GraphBuilder, m: ModelSpec, withMask: boolean): { logits: string; params: ParamSpec[] } {
  const params = modelParams(m);
  for (const p of modelTensors(m)) b.input(p.name, 'float32', p.dims);
  const x = b.input(TRAIN_IO.features, 'float32', ['N', ...inputShape(m)]);
  const hidden = dropoutWidth(m.head);
  const mask = withMask && hidden ? b.input(TRAIN_IO.mask, 'float32', ['N', hidden]) : undefined;
  const pooled = m.trunk ? trunkForward(b, m.trunk, x, (n) => n) : x;
  return { logits: headLogits(b, m.head, pooled, (n) => n, mask), params };
}

export interface TrainGraph {
  graph: Graph;
  params: ParamSpec[];
  /** Optimizer slot names, in output order. */
  slots: string[];
}

export interface StepGraphOptions {
  /** Add `grad:<param>` outputs (for tests). */
  exposeGradients?: boolean;
  /**
   * Rewrite the trunk's 3×3 convolutions as Winograd F(4×4, 3×3) before differentiating: the
   * gradient generator then differentiates the rewritten forward (its Conv, MatMul and Gemm rules,
   * the kernel transform included). On WASM this makes block5's forward + backward about twice as
   * fast.
   */
  winograd?: boolean | WinogradOptions;
}

const rewrite = (b: GraphBuilder, w: StepGraphOptions['winograd']) =>
  w ? new GraphBuilder(winogradRewrite(b.graph, w === true ? {} : w)) : b;

/** The whole training step as one graph. */
export function buildTrainStep(m: ModelSpec, opt: OptimizerSpec, o: StepGraphOptions = {}): TrainGraph {
  let b = new GraphBuilder(m.trunk ? 'convlens-finetune-step' : 'convlens-head-step');
  const { logits, params } = forward(b, m, true);
  const labels = b.input(TRAIN_IO.labels, 'float32', ['N', m.head.classes]);
  const lr = b.input(TRAIN_IO.lr, 'float32', []);
  // Only Adam reads the step count; an input no node reads would be dropped by the runtime.
  const step = opt.kind === 'adam' ? b.input(TRAIN_IO.step, 'float32', []) : '';
  const { loss, accuracy } = lossAndAccuracy(b, logits, labels);
  publish(b, loss, TRAIN_IO.loss);
  publish(b, accuracy, TRAIN_IO.accuracy);
  if (m.trunk) b = rewrite(b, o.winograd);
  const grads = backward(
    b,
    [{ name: loss }],
    params.map((p) => p.name),
  );
  const slots: string[] = [];
  for (const p of params) {
    const g = grads.get(p.name);
    if (!g) throw new Error(`no gradient reaches '${p.name}'`);
    const names = slotNames(opt, p.name);
    for (const s of names) b.input(s, 'float32', p.dims);
    const next = emitUpdate(b, opt, p.name, g, names, lr, step);
    publishByRename(b, next.param, nextName(p.name));
    next.slots.forEach((v, i) => publishByRename(b, v, nextName(names[i]!)));
    slots.push(...names);
    if (o.exposeGradients) publish(b, g, gradName(p.name));
  }
  return { graph: b.graph, params, slots };
}

/** Forward only: logits for a batch, no dropout. */
export function buildEval(m: ModelSpec, o: Pick<StepGraphOptions, 'winograd'> = {}): Graph {
  const b = new GraphBuilder(m.trunk ? 'convlens-finetune-eval' : 'convlens-head-eval');
  const { logits } = forward(b, m, false);
  publish(b, logits, TRAIN_IO.logits);
  return (m.trunk ? rewrite(b, o.winograd) : b).graph;
}
