/**
 * The benchmark's Node rows: onnxruntime-node (native, the ceiling) beside onnxruntime-web's WASM
 * backend in Node, on the same generated graphs and the same demo weights, fp32 and int8.
 */
import * as ortWeb from 'onnxruntime-web';
import { buildBundle } from '../../src/core/bundle/build';
import { weightRefs } from '../../src/core/bundle/load';
import type { BundleManifest } from '../../src/core/bundle/manifest';
import { buildAnalyzeGraph, IO } from '../../src/core/graphs/analyze';
import { encodeModel } from '../../src/core/onnx/encode';
import { embedExternalData } from '../../src/core/onnx/external';
import { demoWeights } from '../../src/core/vgg16/demo';
import type { VggConfig } from '../../src/core/vgg16/spec';
import { sessionExtras } from '../../workers/engine/sessions';
import type { Row } from './report';
import { inTurns, summarize, timeIt, type Stat } from './stats';

export interface Bundles {
  int8: { manifest: BundleManifest; shards: Map<string, Uint8Array> };
  fp32: { manifest: BundleManifest; shards: Map<string, Uint8Array> };
}

export async function makeBundles(cfg: VggConfig): Promise<Bundles> {
  const weights = demoWeights(cfg, 1);
  const common = {
    cfg,
    weights,
    source: 'demo' as const,
    pretrained: false,
    seed: 1,
    preprocessing: 'caffe' as const,
    labels: 'imagenet' as const,
  };
  return {
    int8: await buildBundle({ id: 'bench-int8', quantization: 'int8', ...common }),
    fp32: await buildBundle({ id: 'bench-fp32', quantization: 'fp32', ...common }),
  };
}

/**
 * The graph convlens runs on WASM (Winograd, fc1 as integer products), or the plain one (native
 * onnxruntime's ceiling, and WebGPU's form).
 */
export function graphBytes(b: Bundles['int8'], withCam: boolean, embed: boolean, winograd = false): Uint8Array {
  const { manifest } = b;
  const parts = manifest.parts.map((p) => p.name);
  const g = buildAnalyzeGraph({
    cfg: manifest.architecture,
    weights: (gb) => weightRefs(gb, manifest, parts),
    withCam,
    winograd,
    integerDense: winograd,
  });
  return encodeModel(embed ? embedExternalData(g, b.shards) : g);
}

function feeds<T>(
  Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: number[]) => T,
  S: number,
  withCam: boolean,
) {
  const img = new Float32Array(3 * S * S).map((_, i) => ((i * 7919) % 255) - 120);
  const f: Record<string, T> = { [IO.image]: new Tensor('float32', img, [1, 3, S, S]) };
  if (withCam) f[IO.target] = new Tensor('int64', BigInt64Array.of(-1n), [1]);
  return f;
}

const NATIVE = 'onnxruntime-node native, 2 threads';
const what = (withCam: boolean, quant: string) =>
  `${withCam ? 'forward + Grad-CAM + top-5' : 'forward + top-5'}, ${quant}`;

/** One native row: onnxruntime-node, 2 threads, the plain graph; undefined without onnxruntime-node. */
async function nativeStat(
  bundles: Bundles,
  quant: keyof Bundles,
  withCam: boolean,
  runs: number,
): Promise<Stat | undefined> {
  // onnxruntime-node is optional at install time (its install script may be skipped): load lazily.
  const ortNode = await import('onnxruntime-node').catch(() => undefined);
  if (!ortNode) return undefined;
  const s = await ortNode.InferenceSession.create(graphBytes(bundles[quant], withCam, true), {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const f = feeds(ortNode.Tensor, bundles[quant].manifest.architecture.inputSize, withCam);
  const stat = await timeIt(() => s.run(f), runs);
  await s.release();
  return stat;
}

/**
 * The native fp32 forward timed again (after the browser rows): the live-frame ratios divide by the
 * faster of the two, since load on the host only ever slows the ceiling down (one run here timed it at
 * 216 ms between runs of 113-134 ms, and the ratio read as met).
 */
export async function nativeForwardAgain(bundles: Bundles, runs: number, log: (s: string) => void): Promise<Row[]> {
  log(`native ${what(false, 'fp32')}, again`);
  const stat = await nativeStat(bundles, 'fp32', false, runs);
  return stat ? [{ group: NATIVE, what: NATIVE_AGAIN, stat }] : [];
}
export const NATIVE_AGAIN = `${what(false, 'fp32')}, again after the browser rows`;

export async function nodeRows(bundles: Bundles, runs: number, log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const S = bundles.fp32.manifest.architecture.inputSize;
  for (const quant of ['fp32', 'int8'] as const) {
    for (const withCam of [false, true]) {
      log(`native ${what(withCam, quant)}`);
      const stat = await nativeStat(bundles, quant, withCam, runs);
      if (stat) rows.push({ group: NATIVE, what: what(withCam, quant), stat });
    }
  }
  // One WASM instance per process, its thread count fixed at first use: Node runs 2 threads; the
  // 1-thread rows come from Chromium, where each page has its own instance. The forward and the live
  // graph are open together and run in turns, so the Grad-CAM overhead (their ratio) is paired: the
  // host's speed drifts by more than that overhead between two rows timed one after the other.
  ortWeb.env.wasm.numThreads = 2;
  for (const quant of ['fp32', 'int8'] as const) {
    log(`ort-web node wasm ${what(false, quant)} and ${what(true, quant)}, in turns`);
    const b = bundles[quant];
    const sessions = [];
    for (const withCam of [false, true]) {
      const t0 = performance.now();
      const session = await ortWeb.InferenceSession.create(graphBytes(b, withCam, false, true), {
        graphOptimizationLevel: 'all',
        externalData: [...b.shards].map(([path, data]) => ({ path, data })),
        ...sessionExtras(b.manifest),
      });
      sessions.push({ withCam, session, createMs: performance.now() - t0, f: feeds(ortWeb.Tensor, S, withCam) });
    }
    const samples = await inTurns(
      sessions.map(
        ({ session, f }) =>
          () =>
            session.run(f),
      ),
      runs,
    );
    sessions.forEach(({ withCam, createMs }, i) =>
      rows.push({
        group: 'onnxruntime-web WASM in Node, 2 threads',
        what: what(withCam, quant),
        stat: summarize(samples[i]!),
        note: `session ${(createMs / 1000).toFixed(1)} s; forward and live runs in turns`,
      }),
    );
    for (const { session } of sessions) await session.release();
  }
  return rows;
}
