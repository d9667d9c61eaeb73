/** Run the `convlens` CLI in-process and capture what it prints to stdout. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main';

export async function capture(argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  try {
    return { code: await main(argv), out };
  } finally {
    spy.mockRestore();
  }
}

/** A tiny-vgg int8 demo bundle built through the CLI (fast: every code path, small widths). */
export function buildTinyBundle(out: string): Promise<{ code: number; out: string[] }> {
  return capture(['model', 'build', '--weights', 'demo', '--arch', 'tiny-vgg', '--quant', 'int8', '--out', out]);
}
