/**
 * The insight half of the engine for one loaded model: activations, filter pictures, CAM variants
 * and the deletion curve. Graphs are generated on first use and their sessions cached by key
 * (SessionCache); the host (the engine) supplies the weights and opens sessions.
 */
import type { HeadBuilder } from '../graphs/analyze';
import { buildAnalyzeGraph, IO } from '../graphs/analyze';
import type { GraphBuilder } from '../onnx/builder';
import type { WeightRef } from '../vgg16/graph';
import type { PreprocessMode, VggConfig } from '../vgg16/spec';
import { toNchw } from '../vision/preprocess';
import { resizeCenterCrop, resizeFloatMap } from '../vision/resize';
import type { CamMethod } from './cam';
import type { DeletionCurve, Rgba } from './deletion';
import { deletionCurve, randomMap } from './deletion';
import type { FilterSettings, Rgba as FilterImage } from './filters';
import { ascend, DEFAULT_FILTER_SETTINGS, deprocess } from './filters';
import { ACT_IO, ASCENT_IO, buildActivationGraph, buildAscentGraph } from './graphs';
import type { InsightLayer } from './layers';
import { ascentSize, findLayer, insightLayers } from './layers';
import { seeded } from './random';
import type { Feed, GraphSession, OpenSession } from '../runtime';
import { f32, floatOut } from '../runtime';
import { SessionCache } from './sessions';

export interface InsightModel {
  cfg: VggConfig;
  preprocessing: PreprocessMode;
  labels: readonly string[];
  /** Declares the model's weights in a builder (a bundle's weightRefs, or inlineWeights). */
  weights: (b: GraphBuilder) => WeightRef;
  /** Opens a session for a generated graph (onnxruntime-web in the engine). */
  open: OpenSession;
  /** Winograd rewrite of the 3×3 convs (the engine: on for WASM). */
  winograd?: boolean;
  /** A custom classifier instead of the ImageNet head (CAMs and the deletion curve). */
  head?: HeadBuilder;
  classes?: number;
  /** Sessions kept (default 4). */
  capacity?: number;
  /**
   * Sessions the host already has, by key: the engine's live graph is `cam|gradcam|block5_conv3`
   * (the same graph explain would build), so the default explanation costs no second copy of the model.
   */
  preset?: Record<string, GraphSession>;
}

/** The key of the explain graph for (method, layer). */
export const camKey = (cam: CamMethod, layer: string) => `cam|${cam}|${layer}`;

/** A layer's output for one image: dims [C, H, W]. */
export interface ActivationMaps {
  layer: string;
  dims: number[];
  data: Float32Array;
}

export interface FilterRequest {
  layer: string;
  /** Channel indices to visualise. */
  filters: number[];
  /** Overrides of DEFAULT_FILTER_SETTINGS. */
  settings?: Partial<FilterSettings>;
  /** Filters per session run (default 8). */
  batch?: number;
}

export interface FilterPicture {
  filter: number;
  /** size × size RGBA, deprocessed as the book does. */
  image: FilterImage;
  /** The filter's mean activation at the input of each step. */
  scores: number[];
}

export interface FilterResult {
  layer: string;
  /** The settings used, size rounded up to a multiple the layer's pools divide. */
  settings: FilterSettings;
  pictures: FilterPicture[];
}

export interface ExplainOptions {
  /** Default 'gradcam'. */
  cam?: CamMethod;
  /** Conv (or pool) layer explained; default block5_conv3. */
  layer?: string;
  /** Default: the top-1 class. */
  classIndex?: number;
}

export interface Explanation {
  top5: { index: number; label: string; prob: number }[];
  target: { index: number; label: string };
  cam: CamMethod;
  layer: string;
  /** [h, w] in 0..1. */
  heatmap: { dims: number[]; data: Float32Array };
  ms: { run: number; total: number };
}

export interface DeletionRequest extends ExplainOptions {
  /** K steps (default 16). */
  steps?: number;
  /** Also compute this many random-map baselines (default 0). */
  randomBaselines?: number;
}

export interface DeletionResult {
  explanation: Explanation;
  curve: DeletionCurve;
  /** One curve per random saliency map (same resolution as the CAM, seeds 1, 2, …). */
  random: DeletionCurve[];
}

export type InsightProgress = (p: { phase: string; done: number; total: number }) => void;

export class Insight {
  private readonly sessions: SessionCache;

  constructor(private readonly m: InsightModel) {
    this.sessions = new SessionCache(m.open, m.capacity ?? 4, m.preset);
  }

  /** Conv and pool layers in order with their output shapes at the model's input size. */
  layers(): InsightLayer[] {
    return insightLayers(this.m.cfg);
  }

  /** The network's input for any image: shorter side to the input size, centre crop. */
  input(img: Rgba): { image: Rgba; tensor: Float32Array } {
    const image = resizeCenterCrop(img, this.m.cfg.inputSize);
    return { image, tensor: toNchw(image, this.m.preprocessing) };
  }

  /** One run of the base up to `layer`; the layer's maps (C, H, W). */
  async activations(img: Rgba, layer: string): Promise<ActivationMaps> {
    const { cfg } = this.m;
    const l = findLayer(cfg, layer);
    const S = cfg.inputSize;
    const session = await this.session(`act|${layer}`, () =>
      buildActivationGraph({ cfg, weights: this.m.weights, layer, winograd: this.m.winograd }),
    );
    const out = await session.run({ [ACT_IO.image]: f32(this.input(img).tensor, [1, 3, S, S]) });
    return { layer, dims: [...l.dims], data: floatOut(out, ACT_IO.activation) };
  }

  /** Gradient-ascent pictures of `filters` of a layer, `batch` filters per run. */
  async filters(req: FilterRequest, onProgress?: InsightProgress): Promise<FilterResult> {
    const { cfg } = this.m;
    const l = findLayer(cfg, req.layer);
    const want = { ...DEFAULT_FILTER_SETTINGS, ...req.settings };
    const settings = { ...want, size: ascentSize(cfg, req.layer, want.size) };
    const batch = Math.max(1, req.batch ?? 8);
    const chunks: number[][] = [];
    for (let i = 0; i < req.filters.length; i += batch) chunks.push(req.filters.slice(i, i + batch));
    const total = chunks.length * settings.steps;
    const key = `ascent|${req.layer}|${settings.size}|${settings.objective}`;
    const build = () =>
      buildAscentGraph({
        cfg,
        weights: this.m.weights,
        layer: req.layer,
        size: settings.size,
        preprocessing: this.m.preprocessing,
        winograd: this.m.winograd,
        objective: settings.objective,
      });
    const S = settings.size;
    const C = l.dims[0];
    const pictures: FilterPicture[] = [];
    let done = 0;
    onProgress?.({ phase: 'filters', done, total });
    for (const chunk of chunks) {
      const r = await ascend(
        async (pixels, select, n, step, tv) => {
          const out = await (
            await this.session(key, build)
          ).run({
            [ASCENT_IO.pixels]: f32(pixels, [n, 3, S, S]),
            [ASCENT_IO.select]: f32(select, [n, C]),
            [ASCENT_IO.step]: f32(Float32Array.of(step), [1]),
            [ASCENT_IO.tvWeight]: f32(Float32Array.of(tv), [1]),
          });
          return { next: floatOut(out, ASCENT_IO.next), score: floatOut(out, ASCENT_IO.score) };
        },
        chunk,
        C,
        settings,
        () => onProgress?.({ phase: 'filters', done: ++done, total }),
      );
      chunk.forEach((filter, i) =>
        pictures.push({ filter, image: deprocess(r.pixels, i, S), scores: r.scores.map((s) => s[i]!) }),
      );
    }
    return { layer: req.layer, settings, pictures };
  }

  /** Forward, top-5 and the chosen CAM of the chosen layer, in one run. */
  async explain(img: Rgba, o: ExplainOptions = {}): Promise<Explanation> {
    const t0 = performance.now();
    const cam = o.cam ?? 'gradcam';
    const layer = o.layer ?? 'block5_conv3';
    const input = this.input(img).tensor;
    const t1 = performance.now();
    const out = await this.runCam(input, cam, layer, o.classIndex ?? -1);
    const t2 = performance.now();
    const values = floatOut(out, IO.topValues);
    const indices = out[IO.topIndices]!.data as BigInt64Array;
    const label = (i: number) => this.m.labels[i] ?? `class ${i}`;
    const target = Number((out[IO.targetIndex]!.data as BigInt64Array)[0]);
    const heat = out[IO.heatmap]!;
    return {
      top5: Array.from(indices, (i, k) => ({ index: Number(i), label: label(Number(i)), prob: values[k]! })),
      target: { index: target, label: label(target) },
      cam,
      layer,
      heatmap: { dims: [...heat.dims], data: heat.data as Float32Array },
      ms: { run: t2 - t1, total: performance.now() - t0 },
    };
  }

  /**
   * Class probabilities of input-size images, one run each through the explain graph of (cam, layer)
   * (already loaded for the map being scored; a separate forward graph would be a second copy of
   * the model's weights).
   */
  async classify(images: Rgba[], o: ExplainOptions = {}): Promise<Float32Array[]> {
    const probs: Float32Array[] = [];
    for (const im of images) {
      const out = await this.runCam(toNchw(im, this.m.preprocessing), o.cam ?? 'gradcam', o.layer ?? 'block5_conv3', 0);
      probs.push(floatOut(out, IO.probs));
    }
    return probs;
  }

  private async runCam(
    input: Float32Array,
    cam: CamMethod,
    layer: string,
    target: number,
  ): Promise<Record<string, Feed>> {
    const { cfg } = this.m;
    findLayer(cfg, layer);
    const S = cfg.inputSize;
    const build = () =>
      buildAnalyzeGraph({
        cfg,
        weights: this.m.weights,
        head: this.m.head,
        classes: this.m.classes,
        camLayer: layer,
        cam,
        winograd: this.m.winograd && { layers: (n) => upTo.has(n.name.split('_preact')[0]!) },
      });
    // Winograd only up to the explained layer: the convs after it are differentiated, and their
    // gradient through the Winograd subgraph would hold extra copies of the transformed kernels
    // (a deep explain graph beside the live graph would overflow WASM's 4 GB).
    const names = insightLayers(cfg).map((l) => l.name);
    const upTo = new Set(names.slice(0, names.indexOf(layer) + 1));
    const session = await this.sessions.get(camKey(cam, layer), build, { heavy: true });
    return session.run({
      [IO.image]: f32(input, [1, 3, S, S]),
      [IO.target]: { data: BigInt64Array.of(BigInt(target)), dims: [1] },
    });
  }

  /** The deletion curve of the chosen CAM for its class, and optionally of random maps. */
  async deletion(img: Rgba, o: DeletionRequest = {}): Promise<DeletionResult> {
    const explanation = await this.explain(img, o);
    const { image } = this.input(img);
    const S = this.m.cfg.inputSize;
    const [h, w] = explanation.heatmap.dims as [number, number];
    const upsample = (map: Float32Array) => resizeFloatMap(map, w, h, S, S);
    const classify = (ims: Rgba[]) => this.classify(ims, o);
    const cls = explanation.target.index;
    const opts = { steps: o.steps };
    const curve = await deletionCurve(classify, image, upsample(explanation.heatmap.data), cls, opts);
    const random: DeletionCurve[] = [];
    for (let r = 1; r <= (o.randomBaselines ?? 0); r++) {
      random.push(await deletionCurve(classify, image, upsample(randomMap(seeded(r), h, w)), cls, opts));
    }
    return { explanation, curve, random };
  }

  /** Keys of the sessions held now (for tests and the benchmark). */
  cachedGraphs(): string[] {
    return this.sessions.keys();
  }

  async dispose(): Promise<void> {
    await this.sessions.clear();
  }

  private session(key: string, build: () => ReturnType<typeof buildActivationGraph>): Promise<GraphSession> {
    return this.sessions.get(key, build);
  }
}

export type { Feed };
