/**
 * `convlens train <folder> --model models/<id> --out my.classifier`: one sub-folder per class, its
 * .jpg/.png photos the examples. Runs the same training code as the PWA's engine (TrainingService,
 * onnxruntime-web WASM); only the base part of the bundle is read, the ImageNet head never loads.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { ortRuntime } from '../../../workers/engine/sessions';
import { TrainingService } from '../../core/train/service';
import type { TrainProgress, TrainRequest } from '../../core/train/request';
import { FsBundleStore } from '../fs-store';
import { readImage } from '../imageio';

export class TrainFolderError extends Error {
  override name = 'TrainFolderError';
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

/** Classes = sub-folders (sorted), photos = their images (sorted), ids relative to the folder. */
export async function readClassFolder(
  folder: string,
): Promise<{ classes: string[]; files: { id: string; path: string; label: number }[] }> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    throw new TrainFolderError(`${folder}: no such folder (give a folder with one sub-folder of photos per class)`);
  }
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (classes.length < 2)
    throw new TrainFolderError(
      `${folder} has ${classes.length} class folder(s): make one sub-folder of photos per class, at least two`,
    );
  const files: { id: string; path: string; label: number }[] = [];
  for (const [label, c] of classes.entries()) {
    const names = (await readdir(join(folder, c)))
      .filter((f) => !f.startsWith('.') && IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort();
    if (!names.length) throw new TrainFolderError(`class folder ${join(folder, c)} has no .jpg or .png photos`);
    for (const f of names) files.push({ id: `${c}/${f}`, path: join(folder, c, f), label });
  }
  return { classes, files };
}

export interface TrainCommandOptions {
  folder: string;
  model: string;
  out: string;
  variants?: number;
  epochs?: number;
  seed?: number;
  fineTune: boolean;
  head?: 'dense' | 'gap';
  size?: number;
  lr?: number;
  optimizer?: 'rmsprop' | 'adam';
  threads?: number;
  /** A classifier file of the same classes to continue from (TrainRequest.from). */
  from?: string;
  json: boolean;
}

async function readFrom(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    throw new TrainFolderError(`${file}: cannot read the classifier to continue from (--from)`);
  }
}

export async function trainCommand(o: TrainCommandOptions): Promise<void> {
  const { classes, files } = await readClassFolder(o.folder);
  const dir = resolve(o.model);
  const store = new FsBundleStore(dirname(dir));
  const manifest = await store.manifest(basename(dir));
  ort.env.wasm.numThreads = o.threads ?? 2;
  const service = new TrainingService(ortRuntime(['wasm']), undefined, () => true);
  const photos = await Promise.all(
    files.map(async (f) => ({ id: f.id, label: f.label, image: await readImage(f.path) })),
  );
  const request: TrainRequest = {
    classes,
    photos,
    head: o.head,
    optimizer: o.optimizer,
    lr: o.lr,
    epochs: o.epochs,
    variants: o.variants,
    seed: o.seed,
    inputSize: o.size,
    fineTune: o.fineTune,
    from: o.from === undefined ? undefined : { classifier: await readFrom(o.from) },
  };
  const log = (s: string) => {
    if (!o.json) console.log(s);
  };
  log(
    `training ${classes.length} classes (${classes.map((c, i) => `${c}: ${files.filter((f) => f.label === i).length}`).join(', ')}) on ${manifest.id}${o.from ? `, continuing from ${o.from}` : ''}`,
  );
  const onProgress = (p: TrainProgress) => {
    const m = p.metrics;
    if (m)
      log(
        `  ${m.phase === 'head' ? 'head' : 'fine-tune'} epoch ${String(m.epoch).padStart(3)}  loss ${m.loss.toFixed(4)}  acc ${m.acc.toFixed(3)}  val_loss ${m.valLoss.toFixed(4)}  val_acc ${m.valAcc.toFixed(3)}`,
      );
  };
  try {
    const r = await service.train(store, manifest, request, onProgress);
    const bytes = r.classifier!;
    await writeFile(o.out, bytes);
    const v = r.validation!;
    const summary = {
      out: o.out,
      bytes: bytes.length,
      classes,
      chosen: r.chosen,
      validation: {
        on: v.on,
        accuracy: v.accuracy,
        loss: v.loss,
        confusion: v.confusion,
        misclassified: v.misclassified,
      },
      epochs: r.history.length,
      ms: r.ms,
    };
    if (o.json) console.log(JSON.stringify(summary));
    log(
      `wrote ${o.out} (${(bytes.length / 1e6).toFixed(2)} MB, ${r.chosen} model): ${v.on} accuracy ${(v.accuracy * 100).toFixed(1)} % on ${v.confusion.flat().reduce((a, b) => a + b, 0)} photos; features ${(r.ms.extract / 1000).toFixed(1)} s, head ${(r.ms.head / 1000).toFixed(1)} s${r.ms.finetune ? `, fine-tuning ${(r.ms.finetune / 1000).toFixed(1)} s` : ''}`,
    );
  } finally {
    await service.dispose();
  }
}
