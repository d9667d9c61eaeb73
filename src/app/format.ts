/** Text for numbers the UI shows: sizes, progress, the backend line. */
import type { BackendInfo, Progress } from '../../workers/engine/protocol';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Decimal units (what browsers and phones show for storage): 1 kB = 1000 B. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Whole percent of done/total, clamped to 0..100; 0 when the total is unknown. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

/** Progress counts this large are bytes; smaller ones count items (shards, steps). */
const BYTE_THRESHOLD = 4096;

export function formatProgress(p: Progress): string {
  const amount =
    p.unit === 'bytes' || p.total >= BYTE_THRESHOLD
      ? `${formatBytes(p.done)} of ${formatBytes(p.total)}`
      : `${p.done} of ${p.total}`;
  return `${amount} (${percent(p.done, p.total)} %)`;
}

/** The backend in words: device, fallback, threads and why only one (threads need cross-origin isolation). */
export function describeBackend(backend: BackendInfo, isolated: boolean): string[] {
  const device = backend.device === 'webgpu' ? 'WebGPU' : backend.fallbackReason ? 'WebGPU unavailable: WASM' : 'WASM';
  const threads =
    backend.threads > 1
      ? `${backend.threads} threads`
      : backend.threadsReason
        ? `1 thread: ${backend.threadsReason}`
        : isolated
          ? '1 thread'
          : '1 thread: page not cross-origin isolated';
  return [device, threads];
}

/** "12.3 fps", or a dash before there is a rate. */
export function formatFps(fps: number): string {
  return fps > 0 ? `${fps < 10 ? fps.toFixed(1) : Math.round(fps)} fps` : '– fps';
}

export function formatMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '– ms' : `${Math.round(ms)} ms`;
}

/** A probability as a percentage with one decimal below 10 %. */
export function formatProb(p: number): string {
  const pct = p * 100;
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}

/** "2.4 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Time left in words a person reads at a glance: "45 s left", "3 min left", "1 h 5 min left". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s left`;
  const min = Math.round(seconds / 60);
  return min < 60 ? `${min} min left` : `${Math.floor(min / 60)} h ${min % 60} min left`;
}
