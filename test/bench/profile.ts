/**
 * `npm run bench:profile`: where the live frame's conv base spends its time. onnxruntime-web's own
 * profiler (WASM, Node, 2 threads) over the Winograd-rewritten VGG16 base at 224 px (seeded demo
 * weights: the time does not depend on the values), summed per layer and per op type over 5 runs after
 * 3 warm-up runs. Next to each layer: its batched Winograd GEMMs' rate (36 products of tiles × C by
 * C × O per F(4×4) layer), and at the end a plain 1024³ MatMul's rate, onnxruntime's WASM ceiling on
 * this host. The profiler adds a little per node; read the shares, not the absolute times.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { GraphBuilder } from '../../src/core/onnx/builder';
import { encodeModel } from '../../src/core/onnx/encode';
import { buildFeatureGraph } from '../../src/core/train/features';
import { demoWeights } from '../../src/core/vgg16/demo';
import { inlineWeights } from '../../src/core/vgg16/graph';
import { convLayers, layerSize, VGG16 } from '../../src/core/vgg16/spec';

const WARMUP = 3;
const RUNS = 5;

interface NodeEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

async function msPerRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, runs: number) {
  const t = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  return (performance.now() - t) / runs;
}

/** In a child process: the profiled runs; onnxruntime writes its profile (JSON) to this process's stdout. */
async function profiled(): Promise<void> {
  ort.env.wasm.numThreads = 2;
  const graph = buildFeatureGraph(
    VGG16,
    VGG16.inputSize,
    (b) => inlineWeights(b, VGG16, demoWeights(VGG16, 1, ['base'])),
    { winograd: true },
  );
  const session = await ort.InferenceSession.create(encodeModel(graph), {
    graphOptimizationLevel: 'all',
    enableProfiling: true,
  });
  const S = VGG16.inputSize;
  const image = new ort.Tensor(
    'float32',
    new Float32Array(3 * S * S).map((_, i) => ((i * 7919) % 255) - 120),
    [1, 3, S, S],
  );
  await msPerRun(session, { image }, WARMUP);
  const wall = await msPerRun(session, { image }, RUNS);
  console.log(`${MARK}${wall}`);
  session.endProfiling();
  await session.release();
}

const MARK = 'convlens-profile-wall-ms ';

async function main(): Promise<void> {
  if (process.env.CONVLENS_PROFILE_CHILD) return profiled();
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CONVLENS_PROFILE_CHILD: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (child.status !== 0) throw new Error(`the profiled run failed:\n${child.stderr}`);
  const out = child.stdout;
  const at = out.indexOf(MARK);
  if (at < 0) throw new Error('the profiled run printed no timing');
  const wall = Number(out.slice(at + MARK.length, out.indexOf('\n', at)));
  const S = VGG16.inputSize;
  const events = JSON.parse(out.slice(out.indexOf('[', at), out.lastIndexOf(']') + 1)) as NodeEvent[];
  const runs = events.filter((e) => e.name === 'model_run').slice(-RUNS);
  if (runs.length !== RUNS) throw new Error(`expected ${RUNS} profiled runs, found ${runs.length}`);

  const byLayer = new Map<string, Map<string, number>>();
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    if (!runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur)) continue;
    const op = e.args?.op_name ?? '?';
    const layer = /^(block\d_(conv|pool)\d?)/.exec(e.name)?.[1] ?? 'other';
    const ms = e.dur / 1000 / RUNS;
    const ops = byLayer.get(layer) ?? new Map<string, number>();
    ops.set(op, (ops.get(op) ?? 0) + ms);
    byLayer.set(layer, ops);
    byOp.set(op, (byOp.get(op) ?? 0) + ms);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  const pct = (v: number) => `${((100 * v) / total).toFixed(0)} %`;
  console.log(`Winograd VGG16 base, ${S} px, onnxruntime-web WASM in Node, 2 threads: ${wall.toFixed(0)} ms a run`);
  console.log(`kernels ${total.toFixed(0)} ms a run (profiled); per layer (GEMM = the batched Winograd products):\n`);
  console.log('| layer | ms | share | GEMM ms | GEMM GMAC/s | rest ms |');
  console.log('|---|---|---|---|---|---|');
  let gemm = 0;
  for (const l of convLayers(VGG16)) {
    const ops = byLayer.get(l.name);
    if (!ops) continue;
    const ms = [...ops.values()].reduce((a, b) => a + b, 0);
    // The batched products are the MatMuls fused with the transpose of the tiles.
    const g = ops.get('FusedMatMul') ?? 0;
    gemm += g;
    const tiles = Math.ceil(layerSize(VGG16, l) / 4) ** 2;
    const rate = g ? `${((36 * tiles * l.cin * l.cout) / g / 1e6).toFixed(1)}` : '(not rewritten)';
    console.log(`| ${l.name} | ${ms.toFixed(1)} | ${pct(ms)} | ${g.toFixed(1)} | ${rate} | ${(ms - g).toFixed(1)} |`);
  }
  console.log(
    `\nbatched GEMMs ${gemm.toFixed(0)} ms (${pct(gemm)}); everything else (transforms, bias, ReLU, pools) ${(total - gemm).toFixed(0)} ms`,
  );
  console.log('\n| op | ms | share |\n|---|---|---|');
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]))
    console.log(`| ${op} | ${ms.toFixed(1)} | ${pct(ms)} |`);

  const n = 1024;
  const b = new GraphBuilder('gemm');
  const w = b.constant({ dtype: 'float32', dims: [n, n], data: new Float32Array(n * n).fill(0.01) }, 'w');
  b.output(b.matmul(b.input('x', 'float32', [n, n]), w));
  ort.env.wasm.numThreads = 2;
  const square = await ort.InferenceSession.create(encodeModel(b.graph), { graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  await msPerRun(square, { x }, WARMUP);
  const sq = await msPerRun(square, { x }, 10);
  await square.release();
  console.log(`\nplain ${n}³ MatMul (weights constant): ${sq.toFixed(1)} ms, ${(n ** 3 / sq / 1e6).toFixed(1)} GMAC/s`);
}

await main();
