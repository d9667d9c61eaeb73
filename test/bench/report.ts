/** The benchmark's table: printed, and written as JSON + markdown under .bench/ (gitignored). */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { Stat } from './stats';

export interface Row {
  group: string;
  what: string;
  stat?: Stat;
  /** A plain value (bytes, MB) where the row is not a timing. */
  value?: string;
  /** The goal for this row, and whether this run met it. */
  goal?: string;
  met?: boolean;
  note?: string;
}

export interface Ratio {
  what: string;
  value: number;
  goal?: string;
  met?: boolean;
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

export function toMarkdown(rows: Row[], ratios: Ratio[], meta: Record<string, string>): string {
  const lines = [
    `Benchmark — ${meta.date} — ${meta.machine}`,
    '',
    '| group | what | median | min | max | runs | goal | met | note |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const t = r.stat
      ? [ms(r.stat.median), ms(r.stat.min), ms(r.stat.max), String(r.stat.runs)]
      : [r.value ?? '', '', '', ''];
    const met = r.met === undefined ? '' : r.met ? 'yes' : 'no';
    lines.push(`| ${r.group} | ${r.what} | ${t.join(' | ')} | ${r.goal ?? ''} | ${met} | ${r.note ?? ''} |`);
  }
  lines.push('', '| ratio | value | goal | met |', '|---|---|---|---|');
  for (const q of ratios)
    lines.push(
      `| ${q.what} | ${q.value.toFixed(2)} | ${q.goal ?? ''} | ${q.met === undefined ? '' : q.met ? 'yes' : 'no'} |`,
    );
  return lines.join('\n') + '\n';
}

export function machine(): string {
  const c = cpus();
  return `${c.length}× ${c[0]?.model.trim() ?? 'cpu'}, node ${process.version}`;
}

export async function writeReport(rows: Row[], ratios: Ratio[]): Promise<string> {
  const meta = { date: new Date().toISOString().slice(0, 10), machine: machine() };
  const md = toMarkdown(rows, ratios, meta);
  await mkdir('.bench', { recursive: true });
  await writeFile('.bench/latest.json', JSON.stringify({ ...meta, rows, ratios }, null, 2));
  await writeFile('.bench/latest.md', md);
  return md;
}
