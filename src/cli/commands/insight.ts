/**
 * The insight commands of the CLI:
 *   convlens activations <image> --layer block3_conv1 --out grid.png   (viridis channel maps)
 *   convlens filters --layer block4_conv1 --count 16 --out filters.png  (gradient-ascent pictures)
 *   convlens classify <image…> --cam gradcam|gradcam++|layercam --layer <name>  (explainCommand)
 */
import { basename, dirname, extname, resolve } from 'node:path';
import type { CamMethod, FilterSettings } from '../../core/insight';
import { activationGrid, tileGrid } from '../../core/insight';
import { IMAGENET_LABELS } from '../../core/vgg16/imagenet-labels';
import { overlayHeatmap } from '../../core/vision/overlay';
import { Engine } from '../../../workers/engine/engine';
import { parseClass } from './classify';
import { FsBundleStore } from '../fs-store';
import { readImage, writePng } from '../imageio';

async function openEngine(model: string): Promise<{ engine: Engine; id: string; pretrained: boolean }> {
  const dir = resolve(model);
  const engine = new Engine({ store: new FsBundleStore(dirname(dir)), maxThreads: () => 2 });
  await engine.init({ device: 'wasm' });
  const info = await engine.loadModel(basename(dir));
  return { engine, id: info.id, pretrained: info.pretrained };
}

export async function activationsCommand(o: {
  image: string;
  model: string;
  layer: string;
  out: string;
  normalise: 'map' | 'layer';
  columns?: number;
}): Promise<void> {
  const { engine } = await openEngine(o.model);
  try {
    const t0 = performance.now();
    const maps = await engine.activations(await readImage(o.image), o.layer);
    const ms = performance.now() - t0;
    const h = maps.dims[1]!;
    // Small maps (14×14, 7×7) are enlarged so each tile is at least ~56 px.
    const grid = activationGrid(maps, {
      normalise: o.normalise,
      columns: o.columns,
      scale: Math.max(1, Math.floor(56 / h)),
    });
    await writePng(o.out, grid);
    console.log(
      `${o.layer} [${maps.dims.join('×')}] of ${o.image} → ${o.out} (${grid.width}×${grid.height}, ${ms.toFixed(0)} ms)`,
    );
  } finally {
    await engine.dispose();
  }
}

export async function filtersCommand(o: {
  model: string;
  layer: string;
  count: number;
  out: string;
  settings: Partial<FilterSettings>;
  batch?: number;
  columns?: number;
}): Promise<void> {
  const { engine, pretrained } = await openEngine(o.model);
  try {
    const filters = Array.from({ length: o.count }, (_, i) => i);
    const t0 = performance.now();
    const tty = process.stderr.isTTY;
    const r = await engine.filters({ layer: o.layer, filters, settings: o.settings, batch: o.batch }, (p) => {
      if (tty) process.stderr.write(`\r  ascent ${p.done}/${p.total} steps`);
    });
    if (tty) process.stderr.write('\n');
    const ms = performance.now() - t0;
    const grid = tileGrid(
      r.pictures.map((p) => p.image),
      { columns: o.columns ?? Math.min(8, o.count), labels: r.pictures.map((p) => String(p.filter)) },
    );
    await writePng(o.out, grid);
    const s = r.settings;
    console.log(
      `${o.layer}: ${o.count} filters, ${s.steps} steps of ${s.step} at ${s.size} px (jitter ${s.jitter}, tv ${s.tv}, ${s.objective}) → ${o.out}` +
        `  ${(ms / 1000).toFixed(1)} s${pretrained ? '' : '  (demo weights: random filters)'}`,
    );
  } finally {
    await engine.dispose();
  }
}

function heatmapPath(base: string, image: string, many: boolean): string {
  if (!many) return base;
  const ext = extname(base) || '.png';
  return `${base.slice(0, base.length - extname(base).length)}-${basename(image, extname(image))}${ext}`;
}

/** `classify` with --cam and/or --layer: the chosen CAM of the chosen layer (one run per image). */
export async function explainCommand(o: {
  images: string[];
  model: string;
  cam: CamMethod;
  layer: string;
  classArg?: string;
  heatmap?: string;
  json: boolean;
}): Promise<void> {
  const { engine, id, pretrained } = await openEngine(o.model);
  const classIndex = parseClass(o.classArg, IMAGENET_LABELS);
  try {
    for (const image of o.images) {
      const img = await readImage(image);
      const r = await engine.explain(img, { cam: o.cam, layer: o.layer, classIndex });
      const [h, w] = r.heatmap.dims as [number, number];
      if (o.heatmap)
        await writePng(
          heatmapPath(o.heatmap, image, o.images.length > 1),
          overlayHeatmap(img, r.heatmap.data, w, h, 0.4),
        );
      if (o.json) {
        console.log(
          JSON.stringify({
            image,
            model: id,
            pretrained,
            top5: r.top5,
            target: r.target,
            cam: r.cam,
            layer: r.layer,
            heatmap: { dims: r.heatmap.dims, data: Array.from(r.heatmap.data, (v) => Math.round(v * 1e6) / 1e6) },
            ms: r.ms,
          }),
        );
      } else {
        console.log(`${image}${pretrained ? '' : '  (demo weights: predictions are not meaningful)'}`);
        for (const p of r.top5) console.log(`  ${(p.prob * 100).toFixed(2).padStart(6)} %  ${p.label} (${p.index})`);
        console.log(
          `  ${r.cam} at ${r.layer} (${h}×${w}) for: ${r.target.label} (${r.target.index})  ${r.ms.total.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    await engine.dispose();
  }
}
