/**
 * One live-view frame through the live session: resize and normalise the pixels, run the session, and read
 * its top five, target class and Grad-CAM heatmap into an AnalyzeResult. The heatmap's tensor data is
 * handed on as it is; every other output is disposed.
 */
import * as ort from 'onnxruntime-web';
import { IO } from '../../src/core/graphs/analyze';
import { toNchw } from '../../src/core/vision/preprocess';
import { resizeCenterCrop } from '../../src/core/vision/resize';
import type { Runner } from './model';
import type { AnalyzeOptions, AnalyzeResult, RgbaFrame } from './protocol';

const now = () => performance.now();

/** `pixels` is called inside the timed preprocessing, so decoding a host frame counts there. */
export async function analyzeFrame(
  { manifest, labels, session, size }: Runner,
  pixels: () => RgbaFrame,
  options: AnalyzeOptions,
): Promise<AnalyzeResult> {
  const t0 = now();
  const input = toNchw(resizeCenterCrop(pixels(), size), manifest.preprocessing);
  const t1 = now();
  const out = await session.run({
    [IO.image]: new ort.Tensor('float32', input, [1, 3, size, size]),
    [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(options.classIndex ?? -1)), [1]),
  });
  const t2 = now();
  const values = out[IO.topValues]!.data as Float32Array;
  const indices = out[IO.topIndices]!.data as BigInt64Array;
  const top5 = Array.from(indices, (i, k) => ({
    index: Number(i),
    label: labels[Number(i)] ?? `class ${i}`,
    prob: values[k]!,
  }));
  const target = Number((out[IO.targetIndex]!.data as BigInt64Array)[0]);
  const slow = session.upgradeError;
  const heat = out[IO.heatmap]!;
  for (const t of Object.values(out)) if (t !== heat) t.dispose();
  return {
    top5,
    target: { index: target, label: labels[target] ?? `class ${target}` },
    heatmap: { dims: [...heat.dims], data: heat.data as Float32Array },
    ms: { preprocess: t1 - t0, run: t2 - t1, total: now() - t0 },
    ...(slow && { slowBase: slow.message }),
  };
}
