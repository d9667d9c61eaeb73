#!/usr/bin/env node
/**
 * `convlens` — the engine from the command line:
 *   convlens model build --weights demo|<file.h5>|<file.onnx> [--quant int8|fp32] [--seed N] [--arch vgg16|tiny-vgg] --out models/<id>
 *   convlens model export --out <file.onnx> [--model models/<id>] [--score logit|probability]
 *   convlens classify <image…> [--model models/<id>] [--class <index|label>] [--heatmap out.png] [--json]
 */
import { parseArgs } from 'node:util';
import { buildCommand, exportCommand } from './commands/model';
import { classifyCommand } from './commands/classify';

const USAGE = `usage:
  convlens model build --weights demo|<file.h5>|<file.onnx> [--quant int8|fp32] [--seed N] [--arch vgg16|tiny-vgg] --out models/<id>
  convlens model export --out <file.onnx> [--model models/<id>] [--score logit|probability]
  convlens classify <image…> [--model models/<id>] [--class <index|label>] [--heatmap out.png] [--json]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      weights: { type: 'string' },
      quant: { type: 'string', default: 'int8' },
      seed: { type: 'string', default: '1' },
      arch: { type: 'string', default: 'vgg16' },
      out: { type: 'string' },
      model: { type: 'string', default: 'models/vgg16-demo' },
      class: { type: 'string' },
      heatmap: { type: 'string' },
      score: { type: 'string', default: 'logit' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (cmd === 'model' && sub === 'build') {
    if (!values.weights || !values.out) throw new UsageError('model build needs --weights and --out');
    if (values.quant !== 'int8' && values.quant !== 'fp32') throw new UsageError('--quant is int8 or fp32');
    await buildCommand({ weights: values.weights, quant: values.quant, seed: Number(values.seed), arch: values.arch!, out: values.out });
    return 0;
  }
  if (cmd === 'model' && sub === 'export') {
    if (!values.out) throw new UsageError('model export needs --out <file.onnx>');
    if (values.score !== 'probability' && values.score !== 'logit') throw new UsageError('--score is probability or logit');
    await exportCommand({ model: values.model!, out: values.out, score: values.score });
    return 0;
  }
  if (cmd === 'classify') {
    const images = [sub, ...rest].filter((x): x is string => !!x);
    if (!images.length) throw new UsageError('classify needs at least one image');
    await classifyCommand({ images, model: values.model!, classArg: values.class, heatmap: values.heatmap, json: values.json! });
    return 0;
  }
  throw new UsageError(`unknown command '${[cmd, sub].filter(Boolean).join(' ')}'\n${USAGE}`);
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
