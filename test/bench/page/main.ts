/**
 * The benchmark page's script (bundled by esbuild in test/bench/browser.ts, served with COOP/COEP so
 * the page is cross-origin isolated and WASM can use threads). It puts the driver on
 * `globalThis.bench` for puppeteer; opened with `?cold=base|full&id=…&threads=n`, it starts the cold
 * start by itself, at once.
 */
import { convertUrl } from './convert';
import { coldStart, storeBundle } from './cold';
import {
  engineActivations,
  engineAnalyze,
  engineClassifierLive,
  engineDispose,
  engineImageNet,
  engineExplain,
  engineFilters,
  engineLoad,
  enginePhotos,
  engineTrain,
} from './engine';
import { page } from './globals';
import { ortInit, ortRelease, ortRun, ortSession, ortTurns } from './ort';
import type { BenchPage, ColdMode, PageInfo } from './protocol';
import { tfDispose, tfInit, tfLoad, tfRun } from './tf';
import { installWasmMemoryProbe, wasmMemoryMb } from './wasm-memory';

installWasmMemoryProbe();

async function info(): Promise<PageInfo> {
  const nav = page.navigator;
  const i: PageInfo = {
    crossOriginIsolated: page.crossOriginIsolated,
    hardwareConcurrency: nav.hardwareConcurrency,
    userAgent: nav.userAgent,
  };
  const adapter = await nav.gpu?.requestAdapter().catch(() => null);
  if (adapter) {
    const a = adapter.info ?? {};
    i.webgpu = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'adapter';
  }
  return i;
}

const bench: BenchPage = {
  info,
  ortInit,
  ortSession,
  ortRun,
  ortRelease,
  ortTurns,
  tfInit,
  tfLoad,
  tfRun,
  tfDispose,
  store: storeBundle,
  engineLoad,
  enginePhotos,
  engineAnalyze,
  engineClassifierLive,
  engineActivations,
  engineExplain,
  engineFilters,
  engineTrain,
  engineDispose,
  engineImageNet,
  wasmMemoryMb,
  convertUrl,
};
const q = new URLSearchParams(page.location.search);
const cold = q.get('cold');
if (cold === 'base' || cold === 'full') {
  bench.cold = coldStart(cold as ColdMode, q.get('id') ?? '', Number(q.get('threads') ?? '1'));
}
page.bench = bench;
