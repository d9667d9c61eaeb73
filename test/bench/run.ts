/**
 * `npm run bench`: convlens beside onnxruntime-node (native) and, in headless Chromium,
 * TensorFlow.js — same machine, same run, same weights. Prints the table and the ratios and
 * writes .bench/latest.{json,md}. `--quick` uses fewer runs (3) for a smoke check;
 * `--only=node` or `--only=browser` runs one half (the ratios that need the other half are left out);
 * `--only=engine` runs just the browser's cold start and Engine rows (live frame, insight, training);
 * `--only=load` just the cold start, Engine.loadModel, the live frame and its peak memory;
 * `--only=train` just the training rows and their peak memory.
 */
import { VGG16 } from '../../src/core/vgg16/spec';
import { BROWSER, browserRows } from './browser';
import { makeBundles, NATIVE_AGAIN, nativeForwardAgain, nodeRows } from './node';
import type { Ratio, Row } from './report';
import { writeReport } from './report';

const t0 = performance.now();
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const ONLY = ['node', 'browser', 'engine', 'load', 'train'];
if (only !== undefined && !ONLY.includes(only)) {
  process.stderr.write(`--only=${only}: expected one of ${ONLY.map((o) => `--only=${o}`).join(', ')}\n`);
  process.exit(2);
}
const runs = quick ? 3 : 5;
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const rows: Row[] = [];
log('building full-size VGG16 demo bundles (fp32, int8)');
const bundles = await makeBundles(VGG16);
for (const q of ['int8', 'fp32'] as const) {
  for (const p of bundles[q].manifest.parts)
    rows.push({
      group: 'sizes',
      what: `${p.name}, ${q}`,
      value: `${(p.bytes / 1e6).toFixed(1)} MB`,
      note: `${p.shards.length} shards`,
    });
}
if (only === undefined || only === 'node') rows.push(...(await nodeRows(bundles, runs, log)));
if (only !== 'node') {
  const part = only === 'engine' || only === 'load' || only === 'train' ? only : 'all';
  rows.push(...(await browserRows(bundles, runs, log, part)));
}
if (only === undefined) rows.push(...(await nativeForwardAgain(bundles, runs, log)));

const find = (group: string, what: string) =>
  rows.find((r) => r.group.startsWith(group) && r.what === what)?.stat?.median;
const ratios: Ratio[] = [];
const ratio = (
  what: string,
  num: number | undefined,
  den: number | undefined,
  goal: string,
  met: (v: number) => boolean,
) => {
  if (num && den) ratios.push({ what, value: num / den, ...(goal ? { goal, met: met(num / den) } : {}) });
};
// The faster of the native fp32 forward's two timings (nativeForwardAgain says why).
const natives = [find('onnxruntime-node', 'forward + top-5, fp32'), find('onnxruntime-node', NATIVE_AGAIN)].filter(
  (v): v is number => v !== undefined,
);
const nativeFwd = natives.length ? Math.min(...natives) : undefined;
for (const q of ['fp32', 'int8']) {
  const live = find('onnxruntime-web WASM in Node', `forward + Grad-CAM + top-5, ${q}`);
  const fwd = find('onnxruntime-web WASM in Node', `forward + top-5, ${q}`);
  if (live && nativeFwd)
    ratios.push({
      what: `live frame (Node WASM, ${q}) / native fp32 forward`,
      value: live / nativeFwd,
      goal: '≤ 1.5',
      met: live / nativeFwd <= 1.5,
    });
  if (live && fwd)
    ratios.push({
      what: `Grad-CAM overhead (Node WASM, ${q}): live / forward`,
      value: live / fwd,
      goal: '≤ 1.05',
      met: live / fwd <= 1.05,
    });
}
const chromeLive = (q: 'int8' | 'fp32') => find(BROWSER.wasm(2), BROWSER.live(q));
const tfGradCam = find(BROWSER.tfjs(2), BROWSER.tfGradCam);
ratio(
  'live frame (Chromium WASM 2 threads, int8) / native fp32 forward',
  chromeLive('int8'),
  nativeFwd,
  '≤ 1.5',
  (v) => v <= 1.5,
);
for (const q of ['int8', 'fp32'] as const) {
  ratio(
    `TF.js forward + tf.grad / convlens live frame (Chromium, 2 threads, convlens ${q})`,
    tfGradCam,
    chromeLive(q),
    '≥ 2',
    (v) => v >= 2,
  );
}
for (const q of ['int8', 'fp32'] as const) {
  ratio(
    `Grad-CAM overhead in Chromium (WASM 2 threads, ${q}): live / forward`,
    chromeLive(q),
    find(BROWSER.wasm(2), BROWSER.forward(q)),
    '≤ 1.05',
    (v) => v <= 1.05,
  );
}

ratio(
  'Grad-CAM++ overhead over Grad-CAM (Engine.explain, block5_conv3, Chromium WASM 2 threads, int8)',
  find(BROWSER.insight, 'explain, gradcam++, block5_conv3'),
  find(BROWSER.insight, 'explain, gradcam, block5_conv3'),
  '',
  () => true,
);
for (const layer of ['block1_conv1', 'block5_conv3']) {
  const rows8 = rows.find(
    (r) =>
      r.group === BROWSER.insight &&
      r.what.startsWith(`filter picture (40 steps), ${layer}, `) &&
      !r.what.includes('one at a time'),
  );
  ratio(
    `filter pictures one at a time / batched, per filter (${layer})`,
    find(BROWSER.insight, `filter picture (40 steps), ${layer}, one at a time: per filter`),
    rows8?.stat?.median,
    '',
    () => true,
  );
}

const wall = (performance.now() - t0) / 1000;
rows.push({
  group: 'bench',
  what: 'wall time of this run',
  value: `${Math.floor(wall / 60)} min ${Math.floor(wall % 60)} s`,
  note: [quick ? '--quick' : `${runs} runs`, only ? `--only=${only}` : 'node + browser'].join(', '),
});
console.log(await writeReport(rows, ratios));
