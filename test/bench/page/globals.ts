/**
 * The few browser globals the benchmark page uses. The page is type-checked with the Node project
 * (test/**: no DOM lib), so they are declared here, narrowly, instead of pulling the DOM lib into it.
 */
import type { BenchPage } from './protocol';

export interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

export interface PageGlobals {
  crossOriginIsolated: boolean;
  location: { search: string; href: string };
  navigator: {
    hardwareConcurrency: number;
    userAgent: string;
    gpu?: { requestAdapter(): Promise<{ info?: GpuAdapterInfo } | null> };
  };
  /** performance.now() in index.html's first script: where the cold start's clock starts. */
  __benchT0?: number;
  bench?: BenchPage;
}

export const page = globalThis as unknown as PageGlobals;
