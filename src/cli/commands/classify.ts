/** `convlens classify`: top-5 and a Grad-CAM overlay PNG per image, or one JSON object per image. */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { overlayHeatmap } from '../../core/vision/overlay';
import { Engine } from '../../../workers/engine/engine';
import { FsBundleStore } from '../fs-store';
import { readImage, writePng } from '../imageio';
import { IMAGENET_LABELS } from '../../core/vgg16/imagenet-labels';

export class ClassArgError extends Error {
  override name = 'ClassArgError';
}

/** `--class` takes an index or a label (exact, case-insensitive). */
export function parseClass(arg: string | undefined, labels: readonly string[]): number | undefined {
  if (arg === undefined) return undefined;
  if (/^\d+$/.test(arg)) {
    const i = Number(arg);
    if (i >= labels.length) throw new ClassArgError(`--class ${i} is out of range (0..${labels.length - 1})`);
    return i;
  }
  const i = labels.findIndex((l) => l.toLowerCase() === arg.toLowerCase());
  if (i < 0) throw new ClassArgError(`--class '${arg}' is not a label of this model`);
  return i;
}

function heatmapPath(base: string, image: string, many: boolean): string {
  if (!many) return base;
  const ext = extname(base) || '.png';
  return `${base.slice(0, base.length - extname(base).length)}-${basename(image, extname(image))}${ext}`;
}

export async function classifyCommand(o: {
  images: string[];
  model: string;
  /** A classifier file trained on this model (`convlens train`): its classes replace ImageNet's. */
  classifier?: string;
  classArg?: string;
  heatmap?: string;
  json: boolean;
}): Promise<void> {
  const dir = resolve(o.model);
  const engine = new Engine({ store: new FsBundleStore(dirname(dir)), maxThreads: () => 2 });
  await engine.init({ device: 'wasm' });
  const info = await engine.loadModel(basename(dir));
  const custom = o.classifier ? await engine.useClassifier(new Uint8Array(await readFile(o.classifier))) : null;
  const classIndex = parseClass(o.classArg, custom?.classes ?? IMAGENET_LABELS);
  try {
    for (const image of o.images) {
      const img = await readImage(image);
      const r = await engine.analyze(img, { classIndex });
      if (o.heatmap)
        await writePng(
          heatmapPath(o.heatmap, image, o.images.length > 1),
          overlayHeatmap(img, r.heatmap.data, r.heatmap.dims[1]!, r.heatmap.dims[0]!, 0.4),
        );
      if (o.json) {
        console.log(
          JSON.stringify({
            image,
            model: info.id,
            pretrained: info.pretrained,
            top5: r.top5,
            target: r.target,
            heatmap: { dims: r.heatmap.dims, data: Array.from(r.heatmap.data, (v) => Math.round(v * 1e6) / 1e6) },
            ms: r.ms,
          }),
        );
      } else {
        console.log(`${image}${info.pretrained || custom ? '' : '  (demo weights: predictions are not meaningful)'}`);
        for (const p of r.top5) console.log(`  ${(p.prob * 100).toFixed(2).padStart(6)} %  ${p.label} (${p.index})`);
        console.log(`  heatmap for: ${r.target.label} (${r.target.index})  ${r.ms.total.toFixed(0)} ms`);
      }
    }
  } finally {
    await engine.dispose();
  }
}
