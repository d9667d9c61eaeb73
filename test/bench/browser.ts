/**
 * The benchmark's browser rows, in headless Chromium (Debian's, through puppeteer-core) on this
 * machine, with the same full-size demo bundles as the Node rows:
 *
 * 1. convlens on onnxruntime-web's WASM backend, 1 and 2 threads (a fresh page per row: the WASM
 *    instance fixes its threads at start), forward + top-5 and the live frame (forward + Grad-CAM +
 *    top-5); session creation in the note.
 * 2. One live frame on WebGPU over SwiftShader (a CPU: correctness only), compared with WASM.
 * 3. The peer: TensorFlow.js's wasm backend on the same fp32 weights, forward and forward + tf.grad
 *    Grad-CAM, 1 and 2 threads; its heatmap is compared with convlens's.
 * 4. Cold start: bundle in IndexedDB → first block5_pool activation / first heatmap, in a fresh tab.
 * 5. Peak RSS (VmHWM) of the renderer that ran the int8 live frame with 2 threads.
 *
 * Everything is served from memory and node_modules by a small HTTP server on 127.0.0.1 with
 * COOP/COEP, so the page is cross-origin isolated (SharedArrayBuffer, hence WASM threads). Every
 * step has a timeout; a failed step becomes a row whose note says why, and the bench goes on.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { readImage } from '../../src/cli/imageio';
import type { RgbaImage } from '../../src/core/vision/image';
import { ensureFullWeights, FULL_WEIGHTS_FILE } from '../e2e/full-weights';
import type { SampledPeak } from '../helpers/proc';
import { renderers, resetPeaks, sampleRss } from '../helpers/proc';
import { sessionExtras } from '../../workers/engine/sessions';
import type { Bundles } from './node';
import { graphBytes } from './node';
import type {
  BenchPage,
  ColdMode,
  ColdResult,
  EngineTimed,
  EngineTrainResult,
  OrtSessionRequest,
  PageInfo,
  PhotoEntry,
  Quant,
  RunResult,
  SessionTiming,
  ShardUrl,
} from './page/protocol';
import type { EngineTrainRequest } from './page/protocol';
import { cosine } from './page/protocol';
import type { Row } from './report';
import { summarize } from './stats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Group and row names, shared with run.ts's ratios. */
export const BROWSER = {
  wasm: (threads: number) => `Chromium WASM (onnxruntime-web), ${threads} thread${threads > 1 ? 's' : ''}`,
  tfjs: (threads: number) => `TensorFlow.js wasm in Chromium, ${threads} thread${threads > 1 ? 's' : ''}`,
  webgpu: 'Chromium WebGPU (onnxruntime-web, SwiftShader)',
  cold: 'cold start in Chromium (bundle in IndexedDB, int8, WASM 2 threads)',
  forward: (q: Quant) => `forward + top-5, ${q}`,
  live: (q: Quant) => `forward + Grad-CAM + top-5, ${q}`,
  tfForward: 'forward + top-5, fp32',
  tfGradCam: 'forward + tf.grad Grad-CAM + top-5, fp32',
  engine: 'convlens Engine in Chromium (bundle in IndexedDB, int8, WASM 2 threads)',
  training: 'training through the Engine in Chromium (int8, WASM 2 threads)',
  insight: 'insight through the Engine in Chromium (int8, WASM 2 threads)',
} as const;

const THREADS = [1, 2] as const;
const QUANTS = ['int8', 'fp32'] as const;
const MINUTE = 60_000;
/** Most calls; session creation and timed runs get their own below. */
const STEP_MS = 2 * MINUTE;
const SESSION_MS = 5 * MINUTE;
const WEBGPU_MS = 3 * MINUTE;
const runMs = (runs: number) => 2 * MINUTE + runs * MINUTE;

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (v: number) => `${v.toFixed(0)} ms`;
const median = (xs: number[]) => summarize(xs).median;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);

/** Rejects after `ms` (the work itself is abandoned: the caller closes its page or browser). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${sec(ms)}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- page bundle and server

/** The page script, bundled for the browser; onnxruntime-web stays its own self-hosted module. */
async function pageScript(): Promise<string> {
  const out = await build({
    entryPoints: [join(ROOT, 'test/bench/page/main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [
      {
        // Loaded from /ort/ (not bundled), so its import.meta.url finds its .mjs/.wasm files there
        // and its worker threads start from its own file, not from the page script.
        name: 'ort-self-hosted',
        setup(b) {
          // As the app's worker: the package's name is workers/engine/ort.ts, which loads one build.
          b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: join(ROOT, 'workers/engine/ort.ts') }));
          b.onResolve({ filter: /^onnxruntime-web\/wasm$/ }, () => ({ path: '/ort/ort.wasm.min.mjs', external: true }));
          b.onResolve({ filter: /^onnxruntime-web-jsep$/ }, () => ({ path: '/ort/ort.min.mjs', external: true }));
        },
      },
    ],
  });
  return out.outputFiles[0]!.text;
}

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>convlens bench</title><link rel="icon" href="data:,">
<script>globalThis.__benchT0 = performance.now();</script>
<script type="module" src="/main.js"></script>
</head><body></body></html>
`;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript',
  mjs: 'text/javascript',
  wasm: 'application/wasm',
  json: 'application/json',
};

interface Served {
  origin: string;
  close(): Promise<void>;
}

/**
 * `mem`: path → bytes served from memory; `dirs`: URL prefix → folder (self-hosted runtimes, cacheable
 * like the app's precached files). Every response carries COOP/COEP/CORP.
 */
async function serve(mem: Map<string, Uint8Array>, dirs: Record<string, string>): Promise<Served> {
  const files = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      let body: Uint8Array | undefined = mem.get(path === '/' ? '/index.html' : path);
      let cache = false;
      for (const [prefix, dir] of Object.entries(dirs)) {
        const name = path.startsWith(prefix) ? path.slice(prefix.length) : '';
        if (body || !/^[\w.-]+$/.test(name) || name.startsWith('.')) continue;
        const file = join(dir, name);
        const bytes = files.get(file) ?? (await readFile(file).catch(() => undefined));
        if (!bytes) continue;
        files.set(file, bytes);
        body = bytes;
        cache = true;
      }
      const headers = {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Cache-Control': cache ? 'max-age=3600' : 'no-store',
      };
      if (!body) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const ext = path === '/' ? 'html' : (path.split('.').pop() ?? '');
      res.writeHead(200, {
        ...headers,
        'Content-Type': TYPES[ext] ?? 'application/octet-stream',
        'Content-Length': String(body.byteLength),
      });
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const graphPath = (q: Quant, kind: 'forward' | 'live' | 'live-webgpu') => `/graph/${q}-${kind}.onnx`;
const shardUrls = (b: Bundles[Quant], q: Quant): ShardUrl[] =>
  [...b.shards.keys()].map((path) => ({ path, url: `/bundle/${q}/${path}` }));

/** Everything the pages fetch that is not a runtime file: the page, the graphs, the bundles. */
async function memFiles(bundles: Bundles): Promise<Map<string, Uint8Array>> {
  const te = new TextEncoder();
  const mem = new Map<string, Uint8Array>([
    ['/index.html', te.encode(INDEX_HTML)],
    ['/main.js', te.encode(await pageScript())],
  ]);
  for (const q of QUANTS) {
    const b = bundles[q];
    // The graphs the engine runs: Winograd on for WASM, off for WebGPU (workers/engine/engine.ts, loadModel).
    mem.set(graphPath(q, 'forward'), graphBytes(b, false, false, true));
    mem.set(graphPath(q, 'live'), graphBytes(b, true, false, true));
    mem.set(`/bundle/${q}/manifest.json`, te.encode(JSON.stringify(b.manifest)));
    for (const [file, bytes] of b.shards) mem.set(`/bundle/${q}/${file}`, bytes);
  }
  mem.set(graphPath('int8', 'live-webgpu'), graphBytes(bundles.int8, true, false, false));
  const photos = await benchPhotos();
  mem.set('/photos/index.json', te.encode(JSON.stringify(photos.map((p) => p.entry))));
  for (const p of photos) mem.set(p.entry.url, p.data);
  return mem;
}

const PHOTOS = join(ROOT, 'test/fixtures/photos');
/** Photos per class in the training scenario (issue 4: 3 classes × 10 photos). */
const PER_CLASS = 10;

function mirror(img: RgbaImage): Uint8Array {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out.set(data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (y * w + w - 1 - x) * 4);
  return out;
}

/**
 * The training photos (test/fixtures/photos/index.json, both splits), decoded here and served as raw
 * RGBA: each class's photos, topped up to PER_CLASS with mirror images of its first ones (the
 * fixtures hold 9 a class), then one more mirror image kept back as the photo "added" for the retrain.
 */
async function benchPhotos(): Promise<{ entry: PhotoEntry; data: Uint8Array }[]> {
  const index = JSON.parse(await readFile(join(PHOTOS, 'index.json'), 'utf8')) as { path: string; class: string }[];
  const classes = [...new Set(index.map((p) => p.class))];
  const out: { entry: PhotoEntry; data: Uint8Array }[] = [];
  const add = (id: string, className: string, img: RgbaImage, data: Uint8Array, extra?: number) =>
    out.push({
      entry: {
        id,
        className,
        url: `/photos/${out.length}.rgba`,
        width: img.width,
        height: img.height,
        ...(extra === undefined ? {} : { extra }),
      },
      data,
    });
  for (const c of classes) {
    const files = index.filter((p) => p.class === c).map((p) => p.path);
    const imgs = await Promise.all(files.map((f) => readImage(join(PHOTOS, f))));
    imgs.forEach((img, i) =>
      add(files[i]!, c, img, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length)),
    );
    for (let i = 0; i < PER_CLASS - imgs.length; i++) add(`${files[i]}#mirror`, c, imgs[i]!, mirror(imgs[i]!));
    if (c === classes[0]) add(`${files[1]}#mirror-added`, c, imgs[1]!, mirror(imgs[1]!), 0);
  }
  return out;
}

// ---------------------------------------------------------------- browser and page

interface Launched {
  browser: Browser;
  pid: number;
  close(): Promise<void>;
}

async function launch(extraArgs: string[] = []): Promise<Launched> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'convlens-bench-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true, // --headless=new
    userDataDir,
    protocolTimeout: 30 * MINUTE,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
      // Extra flags for one investigation (e.g. --js-flags=--liftoff-only), space-separated.
      ...(process.env.BENCH_CHROMIUM_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
  });
  const proc = browser.process();
  return {
    browser,
    pid: proc?.pid ?? 0,
    async close() {
      await within(browser.close(), 30_000, 'closing Chromium').catch(() => proc?.kill('SIGKILL'));
      await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

type Method = Exclude<keyof BenchPage, 'cold'>;

/** Call the page's driver (`globalThis.bench`), with a timeout. */
async function call<M extends Method>(
  page: Page,
  ms: number,
  method: M,
  ...args: Parameters<BenchPage[M]>
): Promise<Awaited<ReturnType<BenchPage[M]>>> {
  const run = page.evaluate(
    (m: string, a: unknown[]) =>
      (globalThis as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[m]!(...a),
    method,
    args as unknown[],
  );
  return (await within(run, ms, `page ${method}`)) as Awaited<ReturnType<BenchPage[M]>>;
}

/** A new tab whose uncaught errors and console errors go to the log. */
async function newPage(b: Launched, log: (s: string) => void): Promise<Page> {
  const page = await b.browser.newPage();
  page.on('pageerror', (e) => log(`  page error: ${errText(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log(`  console: ${m.text().slice(0, 300)}`);
  });
  return page;
}

async function open(
  b: Launched,
  origin: string,
  path: string,
  log: (s: string) => void,
): Promise<{ page: Page; info: PageInfo }> {
  const page = await newPage(b, log);
  await goto(page, origin + path);
  const info = await call(page, STEP_MS, 'info');
  if (!info.crossOriginIsolated) throw new Error('the page is not cross-origin isolated (COOP/COEP missing?)');
  return { page, info };
}

async function goto(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load', timeout: STEP_MS });
  await page.waitForFunction('globalThis.bench !== undefined', { timeout: STEP_MS });
}

async function closePage(page: Page | undefined): Promise<void> {
  await within(page?.close() ?? Promise.resolve(), 30_000, 'closing the page').catch(() => undefined);
}

// ---------------------------------------------------------------- the rows

interface Ctx {
  bundles: Bundles;
  runs: number;
  origin: string;
  log: (s: string) => void;
  rows: Row[];
  /** Live-frame results by `${threads}/${quant}`, for the cross-checks. */
  live: Map<string, RunResult>;
}

const failed = (group: string, what: string, e: unknown): Row => ({ group, what, note: `failed: ${errText(e)}` });

function sessionRequest(ctx: Ctx, q: Quant, graphUrl: string, ep: 'wasm' | 'webgpu'): OrtSessionRequest {
  const b = ctx.bundles[q];
  const extra = sessionExtras(b.manifest).extra as OrtSessionRequest['extra'];
  return { graphUrl, shards: shardUrls(b, q), ep, ...(extra ? { extra } : {}) };
}

/**
 * One page, one session: onnxruntime-web WASM, `threads`, one graph. A fresh page each time: in our
 * runs a second session in the same page (after the first one's release) ran slower than the first,
 * up to 2×, so sharing a page would bias whichever row came second.
 */
async function ortPage(ctx: Ctx, b: Launched, threads: number, q: Quant, withCam: boolean): Promise<void> {
  const group = BROWSER.wasm(threads);
  const what = withCam ? BROWSER.live(q) : BROWSER.forward(q);
  let page: Page | undefined;
  try {
    ctx.log(`chromium wasm ${threads}t ${what}`);
    ({ page } = await open(b, ctx.origin, '/', ctx.log));
    const startMs = await call(page, STEP_MS, 'ortInit', threads);
    const graph = graphPath(q, withCam ? 'live' : 'forward');
    const t = await call(page, SESSION_MS, 'ortSession', sessionRequest(ctx, q, graph, 'wasm'));
    const r = await call(page, runMs(ctx.runs), 'ortRun', { withCam, runs: ctx.runs, warmup: 1 });
    const note = `session ${sec(t.createMs)} (runtime start ${sec(startMs)} before it); top-1 ${r.top[0]}`;
    ctx.rows.push({ group, what, stat: summarize(r.samples), note });
    if (withCam) ctx.live.set(`${threads}/${q}`, r);
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(group, what, e));
  } finally {
    await closePage(page);
  }
}

/**
 * Warm-up runs before the timed ones where a ratio or the live frame is read: V8 compiles the hot WASM
 * functions with its optimising tier over the first few runs; the Engine's first frame also runs the
 * plain base and its second builds the Winograd base, and its frames 7–10 run ≈ 20 % slower again
 * (seen in every run here: e.g. 287, 282, 280, 339, 363, 287, 342, 278, 285, 278 ms for frames 4–13).
 * The Engine rows print the warm-up frames' times, so that transient stays in the table.
 */
const LIVE_WARMUP = 10;

/**
 * One page, two sessions: the forward graph and the live graph (`q`, 2 threads), timed in turns, so
 * the Grad-CAM overhead (their ratio, goal ≤ 5 %) is paired: this host drifts by more than that
 * between pages. The live session opens first and runs once alone: the int8 page's peak memory row
 * covers the live frame only, as in a page of its own.
 */
async function ortPairPage(ctx: Ctx, b: Launched, q: Quant): Promise<void> {
  const group = BROWSER.wasm(2);
  let what = `${BROWSER.forward(q)} and ${BROWSER.live(q)}`;
  let page: Page | undefined;
  try {
    ctx.log(`chromium wasm 2t ${what}, in turns`);
    const measure = q === 'int8';
    ({ page } = await open(b, ctx.origin, '/', ctx.log));
    if (measure) await resetPeaks(b.pid);
    const startMs = await call(page, STEP_MS, 'ortInit', 2);
    const open2 = (withCam: boolean) =>
      call(
        page!,
        SESSION_MS,
        'ortSession',
        sessionRequest(ctx, q, graphPath(q, withCam ? 'live' : 'forward'), 'wasm'),
        withCam ? 'live' : 'forward',
      );
    const tLive = await open2(true);
    await call(page, runMs(1), 'ortRun', { withCam: true, runs: 1, warmup: 0 }, 'live');
    const since = "from the page's start (peaks reset) to after the live frame's session and its first run";
    if (measure) await memoryRow(ctx, b, LIVE_MEMORY, since, { mb: 600 }, page);
    const tFwd = await open2(false);
    const [fwd, live] = await call(page, 2 * runMs(ctx.runs + LIVE_WARMUP), 'ortTurns', {
      slots: [
        { slot: 'forward', withCam: false },
        { slot: 'live', withCam: true },
      ],
      runs: ctx.runs,
      warmup: LIVE_WARMUP,
    });
    const note = (t: SessionTiming, r: RunResult) =>
      `session ${sec(t.createMs)} (runtime start ${sec(startMs)} before them); runs in turns with the ${r === live ? 'forward' : 'live'} session of the same page, after ${LIVE_WARMUP} warm-up runs each; top-1 ${r.top[0]}`;
    what = BROWSER.forward(q);
    ctx.rows.push({ group, what, stat: summarize(fwd!.samples), note: note(tFwd, fwd!) });
    what = BROWSER.live(q);
    ctx.rows.push({ group, what, stat: summarize(live!.samples), note: note(tLive, live!) });
    ctx.live.set(`2/${q}`, live!);
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(group, what, e));
  } finally {
    await closePage(page);
  }
}

const LIVE_MEMORY = 'peak RSS (VmHWM) of the renderer, int8 live frame, WASM 2 threads';

/** The largest renderer's peak RSS since the last resetPeaks, as a row (`since`: what the peak covers). */
async function memoryRow(
  ctx: Ctx,
  b: Launched,
  what: string,
  since: string,
  goal?: { mb: number },
  page?: Page,
  sampled?: SampledPeak,
): Promise<void> {
  try {
    const r = await renderers(b.pid);
    // onnxruntime's heap only grows: its size now is its peak (the probe in page/wasm-memory.ts).
    const wasm = page
      ? `; of it onnxruntime's WebAssembly memory ${(await call(page, STEP_MS, 'wasmMemoryMb')).toFixed(0)} MB`
      : '';
    const top = r[0];
    if (!top) throw new Error(`no renderer process found under Chromium's pid ${b.pid}`);
    const others = r.slice(1).map((x) => x.hwm.toFixed(0));
    // What the page still holds, apart from garbage V8 has not collected yet (the Engine runs in the page).
    let collected = '';
    if (page) {
      const cdp = await page.createCDPSession();
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.detach();
      const after = (await renderers(b.pid)).find((x) => x.pid === top.pid);
      if (after) collected = `, ${after.rss.toFixed(0)} MB after a forced garbage collection`;
    }
    // The largest of the kernel's peaks and the sampled one (VmHWM has read below a sampled VmRSS here).
    const peak = Math.max(top.hwm, sampled?.mb ?? 0, ...(sampled?.steps ?? []).map((x) => x.hwm));
    const phases = sampled
      ? `; VmRSS sampled every 200 ms peaked at ${sampled.mb.toFixed(0)} MB in "${sampled.phase}" (by phase, MB [of it anonymous, file-backed, shared], with the largest JS heap and ArrayBuffer stores seen: ${sampled.phases
          .map(
            (x) =>
              `${x.phase} ${x.mb.toFixed(0)} [anon ${x.of.anon.toFixed(0)}, file ${x.of.file.toFixed(0)}, shmem ${x.of.shmem.toFixed(0)}]${
                x.probe
                  ? ` (${Object.entries(x.probe)
                      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
                      .join(', ')})`
                  : ''
              }`,
          )
          .join(', ')})`
      : '';
    const steps = sampled?.steps.length
      ? `; VmHWM of each step: ${sampled.steps.map((x) => `${x.phase} ${x.hwm.toFixed(0)}`).join(', ')}`
      : '';
    ctx.rows.push({
      group: 'memory',
      what,
      value: `${peak.toFixed(0)} MB`,
      ...(goal ? { goal: `≤ ${goal.mb} MB`, met: peak <= goal.mb } : {}),
      note: `${since}; renderer pid ${top.pid}, VmHWM ${top.hwm.toFixed(0)} MB, RSS now ${top.rss.toFixed(0)} MB${collected}${phases}${steps}; the largest of ${r.length} renderer process(es)${others.length ? `, the others peak at ${others.join(', ')} MB` : ''}${wasm}`,
    });
  } catch (e) {
    ctx.rows.push(failed('memory', what, e));
  }
}

function compare(label: string, a: RunResult | undefined, b: RunResult | undefined, below?: string): string {
  if (!a?.heatmap || !b?.heatmap) return `no ${label} heatmap to compare`;
  const same = a.top[0] === b.top[0] ? `top-1 same (${a.top[0]})` : `top-1 differs (${a.top[0]} vs ${b.top[0]})`;
  const cos = cosine(a.heatmap, b.heatmap);
  return `heatmap cosine vs ${label} ${cos.toFixed(5)}${cos < 0.9999 && below ? ` (${below})` : ''}, ${same}`;
}

/**
 * Why TF.js's heatmap is not identical (measured on the demo weights): TF.js's wasm MaxPoolGrad gives
 * no gradient to a pooling window whose inputs are all 0 (common after ReLU), where TF.js's cpu
 * backend and convlens route it to the window's first element, which changes α_c a little. With the
 * cpu backend's tf.grad the two agree to 1e-12 (test/helpers/tfjs-gradcam.ts, test/unit/graphs).
 */
const TFJS_WASM_POOL_GRAD = "TF.js wasm's MaxPoolGrad drops the gradient of all-zero pooling windows";

async function tfPage(ctx: Ctx, b: Launched, threads: number): Promise<void> {
  const group = BROWSER.tfjs(threads);
  let page: Page | undefined;
  let what: string = BROWSER.tfForward;
  try {
    ctx.log(`chromium tfjs ${threads}t: weights`);
    ({ page } = await open(b, ctx.origin, '/', ctx.log));
    const init = await call(page, STEP_MS, 'tfInit', threads);
    if (init.backend !== 'wasm') throw new Error(`TensorFlow.js runs on '${init.backend}', not wasm`);
    const load = await call(page, SESSION_MS, 'tfLoad', {
      manifestUrl: '/bundle/fp32/manifest.json',
      shardBase: '/bundle/fp32/',
    });
    const threadNote = init.threads === threads ? '' : `; TF.js uses ${init.threads} thread(s)`;
    const version = `TF.js ${init.version}, ${init.simd ? 'SIMD' : 'no SIMD'}`;
    ctx.log(`chromium tfjs ${threads}t ${what}`);
    const fwd = await call(page, runMs(ctx.runs), 'tfRun', { gradcam: false, runs: ctx.runs, warmup: 1 });
    ctx.rows.push({
      group,
      what,
      stat: summarize(fwd.samples),
      note: `${version}; weights ${sec(load)} (fetch, HWIO transpose)${threadNote}; top-1 ${fwd.top[0]}`,
    });
    what = BROWSER.tfGradCam;
    ctx.log(`chromium tfjs ${threads}t ${what}`);
    const cam = await call(page, runMs(ctx.runs), 'tfRun', { gradcam: true, runs: ctx.runs, warmup: 1 });
    const ref = ctx.live.get(`${threads}/fp32`) ?? ctx.live.get(`${3 - threads}/fp32`);
    const note = compare('convlens fp32', cam, ref, TFJS_WASM_POOL_GRAD) + threadNote;
    ctx.rows.push({ group, what, stat: summarize(cam.samples), note });
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(group, what, e));
  } finally {
    await closePage(page);
  }
}

/**
 * Store the int8 bundle in IndexedDB from one tab, close it, then open the app afresh in a new tab
 * per row (a new document, a new WASM instance; the HTTP cache keeps the runtime files, as the app's
 * service worker would): the page starts the cold start by itself from its first script.
 */
async function coldRows(ctx: Ctx, b: Launched, storeOnly = false): Promise<void> {
  const id = ctx.bundles.int8.manifest.id;
  let page: Page | undefined;
  let what = 'storing the int8 bundle in IndexedDB';
  try {
    ctx.log(`chromium cold start: ${what}`);
    ({ page } = await open(b, ctx.origin, '/', ctx.log));
    const store = { id, manifestUrl: '/bundle/int8/manifest.json', shardBase: '/bundle/int8/' };
    ctx.log(`  stored in ${sec(await call(page, SESSION_MS, 'store', store))}`);
    for (const mode of storeOnly ? [] : (['base', 'full'] as ColdMode[])) {
      await closePage(page);
      what = mode === 'base' ? 'base only → first block5_pool activation' : 'with ImageNet head → first heatmap';
      ctx.log(`chromium cold start: ${what}`);
      page = await newPage(b, ctx.log);
      await goto(page, `${ctx.origin}/?cold=${mode}&id=${encodeURIComponent(id)}&threads=2`);
      const r = await within(
        page.evaluate(() => (globalThis as unknown as { bench: { cold: Promise<ColdResult> } }).bench.cold),
        SESSION_MS,
        'cold start',
      );
      if (r.error) throw new Error(r.error);
      const info = await call(page, STEP_MS, 'info');
      if (!info.crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
      const steps = [
        `page scripts ${sec(r.scriptsMs)}`,
        `IndexedDB read + sha256 ${sec(r.readMs)} (${(r.bytes / 1e6).toFixed(0)} MB)`,
        `graph ${sec(r.buildMs)}`,
        `session ${sec(r.createMs)}`,
        `run ${sec(r.runMs)}`,
        ...(r.secondMs !== undefined
          ? [`then the ${r.secondBase} base swapped in + second frame ${sec(r.secondMs)}`]
          : []),
      ];
      const got: RunResult = {
        samples: [],
        topValues: [],
        top: r.top ?? [],
        ...(r.heatmap ? { heatmap: r.heatmap } : {}),
      };
      const dims = r.outputDims.join('×');
      const out =
        mode === 'full'
          ? `heatmap ${dims}; ${compare('the int8 live frame row', got, ctx.live.get('2/int8'))}`
          : `output ${dims}`;
      const goalMs = mode === 'base' ? 2000 : 5000;
      ctx.rows.push({
        group: BROWSER.cold,
        what,
        stat: summarize([r.totalMs]),
        goal: `≤ ${goalMs / 1000} s`,
        met: r.totalMs <= goalMs,
        note: `clock from index.html's first script (${r.navigationMs.toFixed(0)} ms after navigation start): ${steps.join(', ')}; ${out}`,
      });
    }
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(BROWSER.cold, what, e));
  } finally {
    await closePage(page);
  }
}

// ---------------------------------------------------------------- the real Engine: live frame, insight, training

const ENGINE_MEMORY =
  'peak RSS (VmHWM, or VmRSS sampled) of the renderer, Engine.loadModel + live frame (int8, WASM 2 threads)';
const SAVER_MEMORY =
  'peak RSS (VmHWM, or VmRSS sampled) of the renderer, Engine.loadModel + live frame, memory saver (int8, WASM 2 threads)';
const TRAIN_MEMORY =
  'peak RSS (VmHWM, or VmRSS sampled) of the renderer, Engine.loadModel + the training rows + live frames (int8, WASM 2 threads)';
/** What a 3–4 GB phone's browser keeps alive in one tab while training (issue 19). */
const TRAIN_MEMORY_GOAL_MB = 900;

/**
 * The page's JS heap in use and its ArrayBuffers' backing stores (onnxruntime's WebAssembly memory
 * among them), MB; undefined if the page does not answer in 150 ms.
 */
async function jsHeapMb(cdp: CDPSession): Promise<Record<string, number> | undefined> {
  const h = (await Promise.race([
    cdp.send('Runtime.getHeapUsage'),
    new Promise((r) => setTimeout(r, 150, undefined)),
  ])) as { usedSize: number; backingStorageSize?: number } | undefined;
  return h && { heap: h.usedSize / 2 ** 20, buffers: (h.backingStorageSize ?? 0) / 2 ** 20 };
}

const maxDiff = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.length ? Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) : NaN;

/** A fresh page with the Engine loaded from IndexedDB (the int8 bundle stored by coldRows), peaks reset. */
async function enginePage(
  ctx: Ctx,
  b: Launched,
  lowMemory = false,
): Promise<{
  page: Page;
  loadMs: number;
  note: string;
  frame: string;
  loadMemory: string;
  rss: ReturnType<typeof sampleRss>;
}> {
  const { page } = await open(b, ctx.origin, '/', ctx.log);
  await resetPeaks(b.pid);
  // The page's JS heap and ArrayBuffer stores beside the samples (skipped while the page is too busy to answer).
  const cdp = await page.createCDPSession();
  const rss = sampleRss(b.pid, { probe: () => jsHeapMb(cdp), first: 'loadModel' });
  const r = await call(page, SESSION_MS, 'engineLoad', { id: ctx.bundles.int8.manifest.id, threads: 2, lowMemory });
  if (r.threads !== 2) throw new Error(`the engine runs ${r.threads} thread(s), not 2`);
  // Which step sets the peak: the renderer's peak and RSS as loadModel returns, before any frame.
  const top = (await renderers(b.pid))[0];
  const phases = Object.entries(r.phases).map(([k, v]) => `${k} at ${sec(v)}`);
  const photos = await call(page, STEP_MS, 'enginePhotos', '/photos/index.json');
  return {
    page,
    loadMs: r.ms,
    note: `loadModel ${sec(r.ms)} (${phases.join(', ')}), onnxruntime's WebAssembly memory then ${r.wasmMb.toFixed(0)} MB; ${photos.count} photos in the page`,
    frame: photos.first,
    loadMemory: top ? `peak ${top.hwm.toFixed(0)} MB and RSS ${top.rss.toFixed(0)} MB as loadModel returned` : '',
    rss,
  };
}

/** The renderer's peak through an Engine page's loadModel and live frames (goal: issue 6's 600 MB). */
const liveMemoryRow = async (ctx: Ctx, b: Launched, what: string, e: Awaited<ReturnType<typeof enginePage>>) =>
  memoryRow(
    ctx,
    b,
    what,
    `from the page's start (peaks reset): loadModel (${e.loadMemory}), then the live frames`,
    { mb: 600 },
    e.page,
    await e.rss.stop(),
  );

const timedRow = (group: string, what: string, t: EngineTimed, note: string): Row => ({
  group,
  what,
  stat: summarize(t.samples),
  note: `first call ${sec(t.firstMs)} (builds the graph and session)${note ? `; ${note}` : ''}`,
});

/**
 * The filter rows: per layer, one Engine.filters call with `batched` filters in one batch, and one with
 * a single filter. Deep layers get a smaller batch: block5_conv3's ascent costs ~10 s a filter here,
 * and the whole bench must stay under 15 minutes.
 */
const FILTER_PLAN = (quick: boolean): { layer: string; batched: number }[] => [
  { layer: 'block1_conv1', batched: quick ? 4 : 8 },
  { layer: 'block5_conv3', batched: quick ? 2 : 4 },
];

/**
 * Engine: loadModel + the live frame (and the renderer's peak RSS through them), then the insight
 * rows (issue 5): activation grids, filter pictures (40 steps, per filter, batched vs one at a time),
 * explain with Grad-CAM vs Grad-CAM++.
 */
async function engineRows(ctx: Ctx, b: Launched, insight = true): Promise<void> {
  let page: Page | undefined;
  let rss: ReturnType<typeof sampleRss> | undefined;
  let what = 'Engine.loadModel from IndexedDB + live frame (Engine.analyze)';
  let group: string = BROWSER.engine;
  try {
    ctx.log(`chromium engine: ${what}`);
    const e = await enginePage(ctx, b);
    ({ page, rss } = e);
    await rss.step('live frames');
    const r = await call(page, runMs(ctx.runs + LIVE_WARMUP), 'engineAnalyze', { runs: ctx.runs, warmup: LIVE_WARMUP });
    ctx.rows.push({ group, what: 'Engine.loadModel from IndexedDB', stat: summarize([e.loadMs]), note: e.note });
    ctx.rows.push({
      group,
      what: 'live frame (Engine.analyze of a fixture photo)',
      stat: summarize(r.samples),
      note:
        `after ${LIVE_WARMUP} warm-up frames (${r.warm.map((x) => Math.round(x)).join(', ')} ms: the plain base, then the ` +
        `Winograd base while V8 tiers the hot WASM functions up); top-1 ${r.top[0]}; of which preprocessing (resize + NCHW, ${e.frame}) ${ms(median(r.split.map((x) => x.preprocess)))}, session run ${ms(median(r.split.map((x) => x.run)))} (medians)`,
    });
    await liveMemoryRow(ctx, b, ENGINE_MEMORY, e);

    if (!insight) return;
    group = BROWSER.insight;
    for (const layer of ['block3_conv1', 'block5_conv3']) {
      what = `activation grid, ${layer}`;
      ctx.log(`chromium engine: ${what}`);
      const t = await call(page, runMs(ctx.runs), 'engineActivations', { layer, runs: ctx.runs, warmup: 1 });
      ctx.rows.push(timedRow(group, what, t, `maps ${t.dims?.join('×')}; one run of the base up to the layer`));
    }
    what = 'explain, gradcam and gradcam++, block5_conv3';
    ctx.log(`chromium engine: ${what} (interleaved)`);
    const cams = ['gradcam', 'gradcam++'] as const;
    const t = await call(page, 2 * runMs(ctx.runs), 'engineExplain', { cams: [...cams], runs: ctx.runs, warmup: 1 });
    for (const cam of cams) {
      const r = t[cam]!;
      ctx.rows.push(
        timedRow(
          group,
          `explain, ${cam}, block5_conv3`,
          r,
          `heatmap ${r.dims?.join('×')}; runs interleaved with ${cams.find((c) => c !== cam)}`,
        ),
      );
    }
    for (const { layer, batched } of FILTER_PLAN(ctx.runs < 5)) {
      for (const count of [batched, 1]) {
        const batch = count;
        what = `filter picture (40 steps), ${layer}, ${batch === 1 ? 'one at a time' : `${batch} at once`}: per filter`;
        ctx.log(`chromium engine: ${what}`);
        const filters = Array.from({ length: count }, (_, i) => i);
        const t = await call(page, 10 * MINUTE, 'engineFilters', { layer, filters, batch, steps: 40 });
        const per = { ...t, samples: t.samples.map((v) => v / count) };
        ctx.rows.push({
          group,
          what,
          stat: summarize(per.samples),
          note: `${count} filter(s) in ${sec(t.samples[0]!)}, ${t.dims?.[1]} px; before it a 1-step call ${sec(t.firstMs)} (builds the graph and session)`,
        });
      }
    }
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(group, what, e));
  } finally {
    await rss?.stop();
    if (page) await call(page, STEP_MS, 'engineDispose').catch(() => undefined);
    await closePage(page);
  }
}

/**
 * The Engine with its memory saver (Engine.init's lowMemory: plain convolutions, never the Winograd
 * base), in a fresh page: the live frame and the renderer's peak, beside the rows above.
 */
async function saverRows(ctx: Ctx, b: Launched): Promise<void> {
  const what = 'live frame, memory saver (plain convolutions)';
  let page: Page | undefined;
  let rss: ReturnType<typeof sampleRss> | undefined;
  try {
    ctx.log(`chromium engine: ${what}`);
    const e = await enginePage(ctx, b, true);
    ({ page, rss } = e);
    await rss.step('live frames');
    const r = await call(page, runMs(ctx.runs + LIVE_WARMUP), 'engineAnalyze', { runs: ctx.runs, warmup: LIVE_WARMUP });
    ctx.rows.push({
      group: BROWSER.engine,
      what,
      stat: summarize(r.samples),
      note: `after ${LIVE_WARMUP} warm-up frames (${r.warm.map((x) => Math.round(x)).join(', ')} ms); top-1 ${r.top[0]}; ${e.note}`,
    });
    await liveMemoryRow(ctx, b, SAVER_MEMORY, e);
  } catch (err) {
    ctx.rows.push(failed(BROWSER.engine, what, err));
  } finally {
    await rss?.stop();
    if (page) await call(page, STEP_MS, 'engineDispose').catch(() => undefined);
    await closePage(page);
  }
}

/**
 * Issue 4's scenario through Engine.train, in a fresh page: 3 classes × 10 photos × 4 variants end
 * to end (the book's dense head and settings), then the same after adding one photo (its features
 * only are extracted) continuing from the first classifier as the app does, and again from scratch,
 * then a run with one block5 fine-tuning epoch; the renderer's peak RSS across.
 */
async function trainingRows(ctx: Ctx, b: Launched): Promise<void> {
  const group = BROWSER.training;
  let page: Page | undefined;
  let rss: ReturnType<typeof sampleRss> | undefined;
  let what = `3 classes × ${PER_CLASS} photos × 4 variants, end to end (extract + head)`;
  try {
    ctx.log(`chromium training: ${what}`);
    const e = await enginePage(ctx, b);
    ({ page, rss } = e);
    const base = { perClass: PER_CLASS, variants: 4 };
    const train = async (label: string, timeout: number, r: EngineTrainRequest) => {
      await rss!.step(label);
      const t = await call(page!, timeout, 'engineTrain', r);
      for (const x of t.transitions) rss!.mark(`${label}: ${x.phase}`, x.at);
      return t;
    };
    const describe = (r: EngineTrainResult) =>
      `extract ${sec(r.phases.extract)} (${r.extracted} of ${r.features} features computed), head ${sec(r.phases.head)}${r.phases.finetune ? `, fine-tune ${sec(r.phases.finetune)}` : ''}; ${r.epochs} epochs, ${r.checkpoints.count} checkpoints kept in IndexedDB (${sec(r.checkpoints.ms)}); ${r.status}${r.accuracy === undefined ? '' : `, val. accuracy ${r.accuracy.toFixed(2)}`}; onnxruntime's WebAssembly memory then ${r.wasmMb.toFixed(0)} MB`;
    // The ImageNet live frame before any training: what the live view shows after training must equal it.
    await rss.step('ImageNet live frame before');
    const before = await call(page, runMs(1) + SESSION_MS, 'engineAnalyze', { runs: 1, warmup: 0 });
    const first = await train('first', 15 * MINUTE, { ...base, extra: 0, fineTuneEpochs: 0 });
    ctx.rows.push({
      group,
      what,
      stat: summarize([first.ms]),
      goal: '≤ 60 s',
      met: first.ms <= 60_000,
      note: `${first.photos} photos (a class: its 9 fixture photos and a mirror image of its first); ${describe(first)}; model loaded before the clock (${e.note})`,
    });
    what = 'head-only retrain after adding 1 photo, continuing from the classifier above (the app default)';
    ctx.log(`chromium training: ${what}`);
    const again = await train('retrain', 10 * MINUTE, {
      ...base,
      extra: 1,
      fineTuneEpochs: 0,
      continueFrom: true,
    });
    ctx.rows.push({
      group,
      what,
      stat: summarize([again.ms]),
      goal: '≤ 2 s',
      met: again.ms <= 2000,
      note: `${again.photos} photos; ${describe(again)}; the head starts at the first classifier's weights, whose validation loss is early stopping's baseline (patience 1)`,
    });
    what = 'head-only retrain after adding 1 photo, from scratch';
    ctx.log(`chromium training: ${what}`);
    const scratch = await train('from scratch', 10 * MINUTE, { ...base, extra: 1, fineTuneEpochs: 0 });
    ctx.rows.push({
      group,
      what,
      stat: summarize([scratch.ms]),
      note: `${scratch.photos} photos; ${describe(scratch)}; the new photo's features were cached by the row above; random start, patience 5`,
    });
    what = 'one block5 fine-tuning epoch';
    ctx.log(`chromium training: ${what}`);
    const ft = await train('fine-tune', 15 * MINUTE, { ...base, extra: 1, fineTuneEpochs: 1 });
    ctx.rows.push({
      group,
      what,
      stat: summarize([ft.phases.finetune]),
      note: `the fine-tune phase of a train() call with fineTune { epochs: 1 } (whole call ${sec(ft.ms)}: ${describe(ft)})`,
    });
    what = 'live frame with the trained classifier (Engine.useClassifier, then Engine.analyze)';
    ctx.log(`chromium training: ${what}`);
    await rss.step('classifier live');
    const live = await call(page, runMs(ctx.runs + LIVE_WARMUP) + SESSION_MS, 'engineClassifierLive', {
      runs: ctx.runs,
      warmup: LIVE_WARMUP,
    });
    ctx.rows.push({
      group,
      what,
      stat: summarize(live.samples),
      note: `the last call's classifier (${live.classifier}); useClassifier ${sec(live.useMs)}; after ${LIVE_WARMUP} warm-up frames (${live.warm.map((x) => Math.round(x)).join(', ')} ms); session run ${ms(median(live.split.map((x) => x.run)))} (median); onnxruntime's WebAssembly memory then ${live.wasmMb.toFixed(0)} MB`,
    });
    what = 'ImageNet live frame after training (Engine.useClassifier(null), then Engine.analyze)';
    ctx.log(`chromium training: ${what}`);
    await rss.step('ImageNet live after');
    await call(page, STEP_MS, 'engineImageNet');
    const after = await call(page, runMs(ctx.runs + LIVE_WARMUP) + SESSION_MS, 'engineAnalyze', {
      runs: ctx.runs,
      warmup: LIVE_WARMUP,
    });
    ctx.rows.push({
      group,
      what,
      stat: summarize(after.samples),
      note: `the live view's sessions, released while training ran, opened again by its first frame (${after.warm.map((x) => Math.round(x)).join(', ')} ms, warm-up); ${compare('the frame before training', after, before)}; top-5 probabilities max. difference ${maxDiff(after.topValues, before.topValues).toExponential(1)}`,
    });
    await memoryRow(
      ctx,
      b,
      TRAIN_MEMORY,
      "from the page's start (peaks reset): loadModel, an ImageNet live frame, the four train() calls, the classifier's live frames, then the ImageNet live frames",
      { mb: TRAIN_MEMORY_GOAL_MB },
      page,
      await rss.stop(),
    );
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed(group, what, e));
  } finally {
    await rss?.stop();
    if (page) await call(page, STEP_MS, 'engineDispose').catch(() => undefined);
    await closePage(page);
  }
}

/** ONE live frame, int8, on WebGPU over SwiftShader; a separate browser; 3 minutes at most in all. */
async function webgpuRow(ctx: Ctx): Promise<void> {
  const what = BROWSER.live('int8');
  const t0 = performance.now();
  const done: string[] = [];
  let b: Launched | undefined;
  let over = false;
  const step = async <T>(label: string, p: Promise<T>): Promise<T> => {
    const t = performance.now();
    const v = await p;
    done.push(`${label} ${sec(performance.now() - t)}`);
    return v;
  };
  try {
    ctx.log(`chromium webgpu (swiftshader) ${what}`);
    const work = (async (): Promise<Row> => {
      b = await step(
        'browser',
        launch(['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader']),
      );
      if (over) await b.close(); // the deadline passed while it started: close it here
      const { page, info } = await step('page', open(b, ctx.origin, '/', ctx.log));
      if (!info.webgpu) throw new Error('no WebGPU adapter in the page');
      await step('runtime', call(page, STEP_MS, 'ortInit', 2, 'jsep'));
      const request = sessionRequest(ctx, 'int8', graphPath('int8', 'live-webgpu'), 'webgpu');
      const t = await step('session', call(page, WEBGPU_MS, 'ortSession', request));
      const r = await call(page, WEBGPU_MS, 'ortRun', { withCam: true, runs: 1, warmup: 0 });
      const ref = ctx.live.get('2/int8') ?? ctx.live.get('1/int8');
      return {
        group: BROWSER.webgpu,
        what,
        stat: summarize(r.samples),
        note: `correctness only (SwiftShader: CPU); adapter ${info.webgpu}; session ${sec(t.createMs)}; ${compare('WASM int8', r, ref)}`,
      };
    })();
    ctx.rows.push(await within(work, WEBGPU_MS, 'WebGPU live frame'));
  } catch (e) {
    const took = sec(performance.now() - t0);
    const stages = done.length ? ` (done: ${done.join(', ')})` : '';
    ctx.log(`  failed after ${took}${stages}: ${errText(e)}`);
    ctx.rows.push({
      group: BROWSER.webgpu,
      what,
      note: `correctness only (SwiftShader: CPU); failed after ${took}${stages}: ${errText(e)}`,
    });
  } finally {
    over = true;
    await (b as Launched | undefined)?.close();
  }
}

const CONVERT_MEMORY =
  'peak RSS (VmHWM, or VmRSS sampled) of the renderer, "Get ImageNet weights": 553 MB fp32 safetensors streamed into the int8 bundle';

/**
 * The conversion (issue 19): the app's library imports a full-size VGG16 safetensors file in timm's layout
 * by URL, converting it while it streams into IndexedDB, in a fresh page; the renderer's peak across it
 * (goal: 600 MB, never the whole fp32 file in memory) and its time over loopback.
 */
async function conversionRows(ctx: Ctx, b: Launched): Promise<void> {
  let page: Page | undefined;
  let rss: ReturnType<typeof sampleRss> | undefined;
  const what = 'importFromUrl: safetensors → int8 bundle in IndexedDB (loopback)';
  try {
    ctx.log(`chromium: ${what}`);
    page = (await open(b, ctx.origin, '/', ctx.log)).page;
    await resetPeaks(b.pid);
    rss = sampleRss(b.pid, { first: 'importFromUrl' });
    const r = await call(page, 600_000, 'convertUrl', `/weights/${FULL_WEIGHTS_FILE}`);
    if (!r.ready) throw new Error(`the converted model ${r.id} is not ready`);
    ctx.rows.push({
      group: BROWSER.engine,
      what,
      stat: summarize([r.ms]),
      note: `download and conversion ${sec(r.downloadMs)}, then the shards' check; ${(r.storedBytes / 1e6).toFixed(1)} MB stored as ${r.id}`,
    });
    await memoryRow(
      ctx,
      b,
      CONVERT_MEMORY,
      "from the page's start (peaks reset) to the model's ready record",
      { mb: 600 },
      undefined,
      await rss.stop(),
    );
  } catch (e) {
    ctx.log(`  failed: ${errText(e)}`);
    ctx.rows.push(failed('memory', CONVERT_MEMORY, e));
  } finally {
    await rss?.stop();
    await closePage(page);
  }
}

/** Everything but WebGPU, in one browser: the WASM pages, the TF.js pages, the cold start, the Engine. */
async function wasmBrowser(ctx: Ctx, only: BrowserPart): Promise<void> {
  let b: Launched | undefined;
  try {
    b = await launch();
    const { page, info } = await open(b, ctx.origin, '/', ctx.log);
    await closePage(page);
    ctx.rows.push({
      group: 'browser',
      what: 'Chromium (headless)',
      value: (await b.browser.version()).replace(/^HeadlessChrome\//, ''),
      note: `crossOriginIsolated ${info.crossOriginIsolated}, hardwareConcurrency ${info.hardwareConcurrency}`,
    });
    if (only === 'all') {
      for (const q of QUANTS) for (const withCam of [false, true]) await ortPage(ctx, b, 1, q, withCam);
      for (const q of QUANTS) await ortPairPage(ctx, b, q);
      for (const threads of THREADS) await tfPage(ctx, b, threads);
    }
    // Stores the int8 bundle in IndexedDB, which the Engine rows then load.
    await coldRows(ctx, b, only === 'train');
    if (only !== 'train') {
      await engineRows(ctx, b, only !== 'load');
      await saverRows(ctx, b);
      await conversionRows(ctx, b);
    }
    if (only !== 'load') await trainingRows(ctx, b);
  } catch (e) {
    ctx.log(`chromium failed: ${errText(e)}`);
    ctx.rows.push(failed('browser', 'Chromium (headless)', e));
  } finally {
    await b?.close();
  }
}

/**
 * Which browser rows: all; 'engine': the cold start and the Engine rows (live frame, insight,
 * training); 'load': the cold start, Engine.loadModel, the live frame and its peak memory; 'train':
 * the training rows and their peak memory (the bundle stored first, no cold start).
 */
export type BrowserPart = 'all' | 'engine' | 'load' | 'train';

export async function browserRows(
  bundles: Bundles,
  runs: number,
  log: (s: string) => void,
  only: BrowserPart = 'all',
): Promise<Row[]> {
  log('chromium: bundling the page, encoding the graphs');
  const server = await serve(await memFiles(bundles), {
    '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist'),
    '/tfjs/': join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'),
    '/weights/': dirname(await ensureFullWeights()),
  });
  const ctx: Ctx = { bundles, runs, origin: server.origin, log, rows: [], live: new Map() };
  try {
    await wasmBrowser(ctx, only);
    if (only === 'all') await webgpuRow(ctx);
  } finally {
    await server.close();
  }
  return ctx.rows;
}
