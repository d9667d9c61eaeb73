/**
 * Memory of Chromium's renderer processes from /proc (Linux): the benchmark's peak-memory row and the
 * e2e soak test read the same numbers. VmHWM is the peak resident set, VmRSS the current one, in MB.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';

export interface ProcMemory {
  pid: number;
  /** Peak resident set (VmHWM), MB. */
  hwm: number;
  /** Resident set now (VmRSS), MB. */
  rss: number;
  /** Of it: anonymous memory, mapped files (the browser's own code among them) and shared memory (RssAnon, RssFile, RssShmem), MB. */
  anon: number;
  file: number;
  shmem: number;
}

async function procStatus(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(
    text.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

/** Chromium's renderer processes under `root` (the browser process), largest peak first. */
export async function renderers(root: number): Promise<ProcMemory[]> {
  const parent = new Map<number, number>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parent.set(Number(e), ppid);
  }
  const under = (pid: number) => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 16; p = parent.get(p), hops++)
      if (p === root) return true;
    return false;
  };
  const out: ProcMemory[] = [];
  for (const pid of parent.keys()) {
    if (pid === root || !under(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    // Chromium rewrites its process title: the arguments may be joined by spaces, not NULs.
    if (!/(^|[\s\0])--type=renderer([\s\0]|$)/.test(cmd)) continue;
    const st = await procStatus(pid).catch(() => undefined);
    const kb = (k: string) => Number(/^(\d+)/.exec(st?.[k] ?? '')?.[1] ?? 0);
    if (st)
      out.push({
        pid,
        hwm: kb('VmHWM') / 1024,
        rss: kb('VmRSS') / 1024,
        anon: kb('RssAnon') / 1024,
        file: kb('RssFile') / 1024,
        shmem: kb('RssShmem') / 1024,
      });
  }
  return out.sort((a, b) => b.hwm - a.hwm);
}

/**
 * Reset the renderers' peak RSS to their current RSS (clear_refs 5, Linux ≥ 4.0), so a renderer that
 * Chromium reuses for a new tab does not carry an earlier page's peak. Best effort.
 */
export async function resetPeaks(root: number): Promise<void> {
  for (const r of await renderers(root)) await writeFile(`/proc/${r.pid}/clear_refs`, '5').catch(() => undefined);
}

/**
 * Chromium's shared-memory regions (buffers it hands between threads and processes): memfd mappings
 * named `/memfd:shared-memory-region`, or, where Chromium backs them with files (Debian's Chromium
 * 150 here), deleted `/tmp/.org.chromium.Chromium.*` (or `/dev/shm/...`) files, one per region.
 */
const SHARED_MEMORY = /\/memfd:shared-memory-region|\/\.org\.chromium\.Chromium\.\S+ \(deleted\)$/;

/** Resident MB of a process's Chromium shared-memory regions, from /proc/<pid>/smaps. */
export async function sharedMemoryMb(pid: number): Promise<number> {
  let mb = 0;
  for (const [name, m] of await residentByMapping(pid)) if (SHARED_MEMORY.test(name)) mb += m;
  return mb;
}

/**
 * Resident MB of a process by mapping (the path column of /proc/<pid>/smaps; anonymous mappings as
 * `[anon]`), for telling which kind of memory grows; Chromium's shared-memory files as one entry.
 */
export async function residentByMapping(pid: number): Promise<Map<string, number>> {
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8');
  const out = new Map<string, number>();
  let name = '[anon]';
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1]!.trim().replace(/(\.org\.chromium\.Chromium\.)\w+/, '$1*') || '[anon]';
    else if (line.startsWith('Rss:')) out.set(name, (out.get(name) ?? 0) + Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024);
  }
  return out;
}

/** The largest resident set a sampler saw, and the phase it was seen in. */
export interface SampledPeak {
  mb: number;
  phase: string;
  /**
   * The peak of every phase, in the order the phases came: its VmRSS, what that sample's RSS was made
   * of, and the largest `probe` readings in the phase.
   */
  phases: {
    phase: string;
    mb: number;
    of: Pick<ProcMemory, 'anon' | 'file' | 'shmem'>;
    probe?: Record<string, number>;
  }[];
  /** The kernel's peak (VmHWM) of each stretch begun by `step`: it sees what lasts too short for a sample. */
  steps: { phase: string; hwm: number }[];
}

/**
 * Samples the largest renderer's resident set (VmRSS) every `everyMs`; `mark` starts a phase (at a
 * time the page may report itself, Date.now()). VmHWM alone under-reports here: one training run's
 * VmHWM read 969 MB while VmRSS was seen at 1.3 GB.
 */
export function sampleRss(
  root: number,
  o: { everyMs?: number; probe?: () => Promise<Record<string, number> | undefined>; first?: string } = {},
) {
  const { everyMs = 200, probe, first = 'start' } = o;
  const samples: {
    at: number;
    mb: number;
    of: Pick<ProcMemory, 'anon' | 'file' | 'shmem'>;
    probe?: Record<string, number>;
  }[] = [];
  const marks: { at: number; phase: string }[] = [{ at: 0, phase: first }];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const top = (await renderers(root).catch(() => []))[0];
      const p = await probe?.().catch(() => undefined);
      if (top) {
        const of = { anon: top.anon, file: top.file, shmem: top.shmem };
        samples.push({ at: Date.now(), mb: top.rss, of, ...(p === undefined ? {} : { probe: p }) });
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  // The stretch before the first step: since the caller's last resetPeaks.
  const steps: { phase: string; hwm: number }[] = [{ phase: first, hwm: 0 }];
  const endStep = async () => {
    const top = (await renderers(root))[0];
    const last = steps.at(-1);
    if (top && last) last.hwm = top.hwm;
  };
  return {
    mark(phase: string, at = Date.now()) {
      marks.push({ at, phase });
    },
    /** Begins a stretch: the last one's VmHWM is read, then the peaks are reset (resetPeaks); also a mark. */
    async step(phase: string) {
      await endStep();
      await resetPeaks(root);
      steps.push({ phase, hwm: 0 });
      marks.push({ at: Date.now(), phase });
    },
    async stop(): Promise<SampledPeak> {
      if (stopped) return { mb: 0, phase: 'none', phases: [], steps };
      stopped = true;
      await loop;
      await endStep();
      marks.sort((a, b) => a.at - b.at);
      const phases: SampledPeak['phases'] = [];
      let m = 0;
      for (const x of samples) {
        while (m + 1 < marks.length && marks[m + 1]!.at <= x.at) m++;
        const phase = marks[m]!.phase;
        const last = phases.at(-1);
        if (last?.phase !== phase) phases.push({ phase, mb: x.mb, of: x.of });
        else if (x.mb > last.mb) Object.assign(last, { mb: x.mb, of: x.of });
        const now = phases.at(-1)!;
        for (const [k, v] of Object.entries(x.probe ?? {})) (now.probe ??= {})[k] = Math.max(now.probe[k] ?? v, v);
      }
      const top = phases.reduce((a, b) => (b.mb > a.mb ? b : a), { phase: 'none', mb: 0 });
      return { mb: top.mb, phase: top.phase, phases, steps };
    },
  };
}
