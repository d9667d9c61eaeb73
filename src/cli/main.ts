#!/usr/bin/env node
/**
 * `convlens` — the engine from the command line:
 *   convlens model build --weights demo|<file.h5>|<file.onnx>|<file.safetensors>|<https URL> [--quant int8|fp32] [--seed N] [--arch vgg16|tiny-vgg] [--cache DIR] [--sha256 HEX] --out models/<id>
 *   convlens model export --out <file.onnx> [--model models/<id>] [--score logit|probability]
 *   convlens classify <image…> [--model models/<id>] [--classifier my.classifier] [--class <index|label>] [--heatmap out.png] [--json]
 *   convlens classify <image…> --cam gradcam|gradcam++|layercam [--layer <conv layer>] [--class …] [--heatmap out.png] [--json]
 *   convlens activations <image> --layer <layer> --out grid.png [--normalise map|layer] [--columns N]
 *   convlens filters --layer <layer> [--count N] --out filters.png [--steps N] [--step S] [--size PX] [--jitter PX] [--tv W] [--objective activation|preactivation] [--book] [--batch B]
 *   convlens train <folder> [--model models/<id>] --out my.classifier [--variants K] [--epochs E] [--seed S] [--fine-tune] [--head dense|gap] [--size S] [--lr LR] [--optimizer rmsprop|adam] [--from my.classifier] [--json]
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildCommand, exportCommand } from './commands/model';
import { classifyCommand } from './commands/classify';
import { trainCommand } from './commands/train';
import { activationsCommand, explainCommand, filtersCommand } from './commands/insight';
import { isCamMethod } from '../core/insight/cam';
import { BOOK_SETTINGS } from '../core/insight/filters';

const USAGE = `usage:
  convlens model build --weights demo|<file.h5>|<file.onnx>|<file.safetensors>|<https URL of a .safetensors> [--quant int8|fp32] [--seed N]
                     [--arch vgg16|tiny-vgg] [--cache DIR (downloads, resumed; default ~/.cache/convlens)] [--sha256 HEX] --out models/<id>
  convlens model export --out <file.onnx> [--model models/<id>] [--score logit|probability]
  convlens classify <image…> [--model models/<id>] [--classifier my.classifier] [--class <index|label>] [--heatmap out.png] [--json]
  convlens classify <image…> --cam gradcam|gradcam++|layercam [--layer <conv layer, default block5_conv3>] [--class …] [--heatmap out.png] [--json]
  convlens activations <image> --layer <conv or pool layer> --out grid.png [--normalise map|layer] [--columns N]
  convlens filters --layer <conv layer> [--count 16] --out filters.png [--steps 40] [--step 1] [--size 128] [--jitter 4] [--tv 0.6]
                   [--objective activation|preactivation] [--book] [--batch 8] [--seed S]
  convlens train <folder: one sub-folder of photos per class> [--model models/<id>] --out my.classifier
                 [--variants K] [--epochs E] [--seed S] [--fine-tune] [--head dense|gap] [--size S] [--lr LR] [--optimizer rmsprop|adam]
                 [--from my.classifier: continue from it, same classes] [--json]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Every option of every command (parseArgs checks the types; each command checks its own). */
const OPTIONS = {
  weights: { type: 'string' },
  quant: { type: 'string', default: 'int8' },
  seed: { type: 'string', default: '1' },
  arch: { type: 'string', default: 'vgg16' },
  out: { type: 'string' },
  cache: { type: 'string' },
  sha256: { type: 'string' },
  model: { type: 'string', default: 'models/vgg16-demo' },
  class: { type: 'string' },
  heatmap: { type: 'string' },
  score: { type: 'string', default: 'logit' },
  json: { type: 'boolean', default: false },
  classifier: { type: 'string' },
  variants: { type: 'string' },
  epochs: { type: 'string' },
  'fine-tune': { type: 'boolean', default: false },
  from: { type: 'string' },
  head: { type: 'string' },
  size: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  cam: { type: 'string' },
  layer: { type: 'string' },
  normalise: { type: 'string', default: 'map' },
  columns: { type: 'string' },
  count: { type: 'string', default: '16' },
  steps: { type: 'string' },
  step: { type: 'string' },
  jitter: { type: 'string' },
  tv: { type: 'string' },
  objective: { type: 'string' },
  book: { type: 'boolean', default: false },
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });

/** One command's arguments: the options, and the positionals after the command's name. */
interface Args {
  values: ReturnType<typeof parse>['values'];
  sub: string | undefined;
  rest: string[];
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const command = commandFor(cmd, sub, values);
  if (!command) throw new UsageError(`unknown command '${[cmd, sub].filter(Boolean).join(' ')}'\n${USAGE}`);
  await command({ values, sub, rest });
  return 0;
}

function commandFor(
  cmd: string,
  sub: string | undefined,
  values: Args['values'],
): ((a: Args) => Promise<void>) | undefined {
  switch (cmd) {
    case 'model':
      return sub === 'build' ? modelBuild : sub === 'export' ? modelExport : undefined;
    case 'classify':
      return values.cam !== undefined || values.layer !== undefined ? explain : classify;
    case 'activations':
      return activations;
    case 'filters':
      return filters;
    case 'train':
      return train;
  }
  return undefined;
}

async function modelBuild({ values }: Args): Promise<void> {
  if (!values.weights || !values.out) throw new UsageError('model build needs --weights and --out');
  if (values.quant !== 'int8' && values.quant !== 'fp32') throw new UsageError('--quant is int8 or fp32');
  await buildCommand({
    weights: values.weights,
    quant: values.quant,
    seed: Number(values.seed),
    arch: values.arch,
    out: values.out,
    cache: values.cache,
    sha256: values.sha256,
  });
}

async function modelExport({ values }: Args): Promise<void> {
  if (!values.out) throw new UsageError('model export needs --out <file.onnx>');
  if (values.score !== 'probability' && values.score !== 'logit')
    throw new UsageError('--score is probability or logit');
  await exportCommand({ model: values.model, out: values.out, score: values.score });
}

/** The images of `classify`: at least one. */
function images({ sub, rest }: Args): string[] {
  const images = [sub, ...rest].filter((x): x is string => !!x);
  if (!images.length) throw new UsageError('classify needs at least one image');
  return images;
}

/** `classify --cam/--layer`: a CAM method for any conv layer. */
async function explain(a: Args): Promise<void> {
  const { values } = a;
  const cam = values.cam ?? 'gradcam';
  const list = images(a);
  if (!isCamMethod(cam)) throw new UsageError('--cam is gradcam, gradcam++ or layercam');
  if (values.classifier)
    throw new UsageError('--cam/--layer explain the ImageNet head; with --classifier leave them out');
  await explainCommand({
    images: list,
    model: values.model,
    cam,
    layer: values.layer ?? 'block5_conv3',
    classArg: values.class,
    heatmap: values.heatmap,
    json: values.json,
  });
}

async function classify(a: Args): Promise<void> {
  const { values } = a;
  await classifyCommand({
    images: images(a),
    model: values.model,
    classifier: values.classifier,
    classArg: values.class,
    heatmap: values.heatmap,
    json: values.json,
  });
}

async function activations({ values, sub, rest }: Args): Promise<void> {
  if (!sub || rest.length) throw new UsageError('activations needs one image');
  if (!values.layer || !values.out) throw new UsageError('activations needs --layer <name> and --out <grid.png>');
  if (values.normalise !== 'map' && values.normalise !== 'layer') throw new UsageError('--normalise is map or layer');
  await activationsCommand({
    image: sub,
    model: values.model,
    layer: values.layer,
    out: values.out,
    normalise: values.normalise,
    columns: numberOption('columns', values.columns),
  });
}

async function filters({ values, sub }: Args): Promise<void> {
  if (sub) throw new UsageError('filters takes no positional argument');
  if (!values.layer || !values.out) throw new UsageError('filters needs --layer <name> and --out <filters.png>');
  const objective = values.objective;
  if (objective !== undefined && objective !== 'activation' && objective !== 'preactivation')
    throw new UsageError('--objective is activation or preactivation');
  const given = {
    steps: numberOption('steps', values.steps),
    step: numberOption('step', values.step, false),
    size: numberOption('size', values.size),
    jitter: numberOption('jitter', values.jitter),
    tv: numberOption('tv', values.tv, false),
    seed: numberOption('seed', values.seed),
    objective,
  };
  await filtersCommand({
    model: values.model,
    layer: values.layer,
    count: numberOption('count', values.count)!,
    out: values.out,
    // --book: the book's recipe exactly; any other flag given still overrides it.
    settings: {
      ...(values.book ? BOOK_SETTINGS : {}),
      ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    },
    batch: numberOption('batch', values.batch),
    columns: numberOption('columns', values.columns),
  });
}

async function train({ values, sub, rest }: Args): Promise<void> {
  if (!sub || rest.length) throw new UsageError('train needs one folder (one sub-folder of photos per class)');
  if (!values.out) throw new UsageError('train needs --out <file.classifier>');
  const num = (name: string, v: string | undefined, int = true) => numberOption(name, v, int, false);
  if (values.head !== undefined && values.head !== 'dense' && values.head !== 'gap')
    throw new UsageError('--head is dense or gap');
  if (values.optimizer !== undefined && values.optimizer !== 'rmsprop' && values.optimizer !== 'adam')
    throw new UsageError('--optimizer is rmsprop or adam');
  await trainCommand({
    folder: sub,
    model: values.model,
    out: values.out,
    variants: num('variants', values.variants),
    epochs: num('epochs', values.epochs),
    // --seed defaults to '1' for model build; the same default suits training.
    seed: num('seed', values.seed),
    fineTune: values['fine-tune'],
    head: values.head,
    size: num('size', values.size),
    lr: num('lr', values.lr, false),
    optimizer: values.optimizer,
    from: values.from,
    json: values.json,
  });
}

/** A numeric option (undefined when not given): an integer unless `int` is false, ≥ 0 if `nonNegative`. */
function numberOption(name: string, v: string | undefined, int = true, nonNegative = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (nonNegative && n < 0) || (int && !Number.isInteger(n)))
    throw new UsageError(
      `--${name} must be a${nonNegative ? ' non-negative' : int ? 'n' : ''} ${int ? 'integer' : 'number'}, got '${v}'`,
    );
  return n;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      // One line, the error's name and what to do; the stack only when asked for.
      console.error(`convlens: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`);
      if (process.env.CONVLENS_DEBUG) console.error(err.stack);
      process.exit(err.name === 'UsageError' ? 2 : 1);
    },
  );
}
