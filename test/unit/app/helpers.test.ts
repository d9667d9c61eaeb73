import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoBaseUrl, fetchBundleBytes, manifestBytes } from '../../../src/app/bundle';
import { submittedValue, urlFormSubmit } from '../../../src/app/components/form';
import { sha256Problem } from '../../../src/app/library/sha256';
import { describeError, isAbort, toAppError } from '../../../src/app/errors';
import {
  describeBackend,
  formatBytes,
  formatFps,
  formatMs,
  formatProb,
  formatProgress,
  percent,
} from '../../../src/app/format';
import { HEAT_SIDE, heatPixels, heatSize, snapshotName } from '../../../src/app/overlay/heat';
import { applyUpdate, watchForUpdate, type ContainerLike, type RegistrationLike } from '../../../src/app/sw-update';
import { jet } from '../../../src/core/vision/colormap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('format', () => {
  it('bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(58_812_345)).toBe('58.8 MB');
    expect(formatBytes(553_000_000)).toBe('553 MB');
    expect(formatBytes(2.5e9)).toBe('2.5 GB');
    expect(formatBytes(-1)).toBe('?');
    expect(formatBytes(Number.NaN)).toBe('?');
  });

  it('percent clamps and survives a zero total', () => {
    expect(percent(1, 4)).toBe(25);
    expect(percent(5, 4)).toBe(100);
    expect(percent(1, 0)).toBe(0);
  });

  it('progress as bytes for large totals, as items for small ones', () => {
    expect(formatProgress({ phase: 'download', done: 12_300_000, total: 58_800_000 })).toBe(
      '12.3 MB of 58.8 MB (20 %)',
    );
    expect(formatProgress({ phase: 'verify', done: 2, total: 5 })).toBe('2 of 5 (40 %)');
  });

  it('describes the backend, saying why there is one thread and why not WebGPU', () => {
    expect(describeBackend({ device: 'webgpu', threads: 4 }, true)).toEqual(['WebGPU', '4 threads']);
    expect(describeBackend({ device: 'wasm', threads: 1, fallbackReason: 'no adapter' }, false)).toEqual([
      'WebGPU unavailable: WASM',
      '1 thread: page not cross-origin isolated',
    ]);
    expect(describeBackend({ device: 'wasm', threads: 1 }, true)).toEqual(['WASM', '1 thread']);
    expect(describeBackend({ device: 'wasm', threads: 2 }, true)).toEqual(['WASM', '2 threads']);
    // Isolated, yet one thread: the engine's reason (a browser without shared memory) is what the user reads.
    expect(
      describeBackend(
        { device: 'wasm', threads: 1, threadsReason: 'this browser offers no WebAssembly threads' },
        true,
      ),
    ).toEqual(['WASM', '1 thread: this browser offers no WebAssembly threads']);
  });

  it('fps, ms and probabilities', () => {
    expect(formatFps(0)).toBe('– fps');
    expect(formatFps(1.634)).toBe('1.6 fps');
    expect(formatFps(24.4)).toBe('24 fps');
    expect(formatMs(612.4)).toBe('612 ms');
    expect(formatMs(undefined)).toBe('– ms');
    expect(formatProb(0.8765)).toBe('88 %');
    expect(formatProb(0.0123)).toBe('1.2 %');
  });
});

describe('form', () => {
  it("submittedValue keeps the page (preventDefault) and reads the named field's value", () => {
    let prevented = false;
    const fields: Record<string, { value: string }> = { 'weights-url': { value: 'https://a.test/w' } };
    const form = { elements: { namedItem: (name: string) => fields[name] ?? null } };
    const ev = { currentTarget: form, preventDefault: () => (prevented = true) } as unknown as Event;
    expect(submittedValue(ev, 'weights-url')).toBe('https://a.test/w');
    expect(prevented).toBe(true);
  });

  it('a SHA-256 is 64 hex digits in either case, spaces around it ignored, or nothing at all', () => {
    const good = '0123456789abcdef'.repeat(4);
    expect(sha256Problem('')).toBeUndefined();
    expect(sha256Problem('   ')).toBeUndefined();
    expect(sha256Problem(good)).toBeUndefined();
    expect(sha256Problem(` ${good.toUpperCase()}\t`)).toBeUndefined();
    expect(sha256Problem(good.slice(1))).toMatch(/64 hexadecimal digits.*this one has 63/);
    expect(sha256Problem(good + '0')).toMatch(/this one has 65/);
    expect(sha256Problem(good.slice(1) + 'g')).toMatch(/"g" is not a hexadecimal digit/);
    expect(sha256Problem(`sha256:${good}`)).toMatch(/"s" is not a hexadecimal digit/);
    expect(sha256Problem(good.slice(0, 32) + ' ' + good.slice(32))).toMatch(/" " is not/);
  });

  describe('urlFormSubmit', () => {
    function submit(url: string, sha: string) {
      const calls = { valid: [] as [string, string][], problems: [] as (string | undefined)[], focused: 0 };
      const fields: Record<string, { value: string; focus?: () => void }> = {
        'import-url': { value: url },
        'import-sha256': { value: sha, focus: () => calls.focused++ },
      };
      const form = { elements: { namedItem: (name: string) => fields[name] ?? null } };
      const ev = { currentTarget: form, preventDefault: noop } as unknown as Event;
      urlFormSubmit(
        'import-url',
        'import-sha256',
        (u, s) => calls.valid.push([u, s]),
        (p) => calls.problems.push(p),
      )(ev);
      return calls;
    }
    const noop = () => {};
    const good = 'AB'.repeat(32);

    it('submits the URL with the trimmed SHA-256, or with none', () => {
      expect(submit('https://a.test/w.onnx', ` ${good} `)).toEqual({
        valid: [['https://a.test/w.onnx', good]],
        problems: [undefined],
        focused: 0,
      });
      expect(submit('https://a.test/w.onnx', '').valid).toEqual([['https://a.test/w.onnx', '']]);
    });

    it('an invalid SHA-256 submits nothing, shows its problem and focuses its field', () => {
      const calls = submit('https://a.test/w.onnx', good.slice(2));
      expect(calls.valid).toEqual([]);
      expect(calls.problems).toEqual([expect.stringMatching(/this one has 62/)]);
      expect(calls.focused).toBe(1);
    });
  });
});

describe('errors', () => {
  it('turns anything thrown into {name, message}, keeping Comlink-carried names', () => {
    const comlinkStyle = Object.assign(new Error('shard base-001.bin: sha256 mismatch'), { name: 'ShardHashError' });
    expect(toAppError(comlinkStyle)).toEqual({
      name: 'ShardHashError',
      message: 'shard base-001.bin: sha256 mismatch',
    });
    expect(toAppError(new DOMException('full', 'QuotaExceededError'))).toEqual({
      name: 'QuotaExceededError',
      message: 'full',
    });
    expect(toAppError('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(toAppError({ message: 'no name' })).toEqual({ name: 'Error', message: 'no name' });
    expect(isAbort({ name: 'AbortError', message: '' })).toBe(true);
  });

  it('titles by name, always showing the error’s own message', () => {
    const quota = describeError({ name: 'QuotaExceededError', message: 'needs 140 MB more' });
    expect(quota.title).toBe('Not enough storage');
    expect(quota.message).toBe('needs 140 MB more');
    expect(quota.hint).toMatch(/delete a model/i);
    expect(describeError({ name: 'QuotaError', message: 'x' }).title).toBe('Not enough storage');
    expect(describeError({ name: 'ShardHashError', message: 'x' }).title).toMatch(/corrupt/);
    expect(describeError({ name: 'WeightsMismatchError', message: 'x' }).hint).toMatch(/vgg16-12\.onnx/);
    expect(describeError({ name: 'StorageBlockedError', message: 'x' }).reload).toBe(true);
    // A checksum that differs points at the SHA-256 field as well as the URL.
    expect(describeError({ name: 'WeightsChecksumError', message: 'x' }).hint).toMatch(/SHA-256.*URL/);
    expect(describeError({ name: 'SourceHashError', message: 'x' }).hint).toMatch(/SHA-256.*URL/);
    expect(describeError({ name: 'ShardHashError', message: 'x' }).reload).toBeUndefined();
    expect(describeError({ name: 'TypeError', message: 'Failed to fetch' }).title).toBe('Network problem');
    expect(describeError({ name: 'SomethingNewError', message: 'detail' })).toEqual({
      title: 'SomethingNewError',
      message: 'detail',
    });
  });
});

describe('error table', () => {
  // Programming errors (a graph the differentiator cannot handle, a bad shape) are bugs, not user states.
  const INTERNAL = new Set([
    'MissingGradientRuleError',
    'UnsupportedGradientError',
    'InvalidGradientError',
    'ShapeError',
    'AttributeError',
    'AbortError',
    // A host that cannot read ImageBitmaps (Node) given one: a caller's mistake, never the app's.
    'UnsupportedFrameError',
  ]);

  it('gives every user-facing error class of the engine a title of its own', () => {
    const names = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.tsx?$/.test(entry.name))
          for (const m of readFileSync(path, 'utf8').matchAll(/class (\w+Error) extends \w*Error/g)) names.add(m[1]!);
      }
    };
    // The CLI prints its own errors; these are the ones the app can meet.
    for (const dir of ['src/core', 'src/app', 'workers']) walk(join(ROOT, dir));
    expect(names.size).toBeGreaterThan(20); // the scan found the engine's errors
    const untitled = [...names].filter((n) => !INTERNAL.has(n) && describeError({ name: n, message: 'm' }).title === n);
    expect(untitled).toEqual([]);
  });
});

describe('bundle', () => {
  it('puts the demo bundle next to the app, also under a sub-path', () => {
    expect(demoBaseUrl('https://h.example/some/dir/index.html')).toBe('https://h.example/some/dir/models/vgg16-demo/');
    expect(demoBaseUrl('http://localhost:8080/')).toBe('http://localhost:8080/models/vgg16-demo/');
  });

  it('sums the parts of a manifest and rejects anything else', () => {
    expect(manifestBytes({ parts: [{ bytes: 10 }, { bytes: 32 }] })).toBe(42);
    expect(manifestBytes({ parts: [] })).toBeUndefined();
    expect(manifestBytes({ parts: [{ bytes: '10' }] })).toBeUndefined();
    expect(manifestBytes('<html>')).toBeUndefined();
    expect(manifestBytes(null)).toBeUndefined();
  });

  it('reads the size from manifest.json; undefined on HTTP errors, HTML or offline', async () => {
    const urls: string[] = [];
    const ok = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ parts: [{ bytes: 7 }] }));
    }) as unknown as typeof fetch;
    expect(await fetchBundleBytes('http://h/models/vgg16-demo/', ok)).toBe(7);
    expect(urls).toEqual(['http://h/models/vgg16-demo/manifest.json']);
    const missing = (async () => new Response('nope', { status: 404 })) as unknown as typeof fetch;
    expect(await fetchBundleBytes('http://h/m/', missing)).toBeUndefined();
    const html = (async () => new Response('<!doctype html>', { status: 200 })) as unknown as typeof fetch;
    expect(await fetchBundleBytes('http://h/m/', html)).toBeUndefined();
    const offline = (async () => Promise.reject(new TypeError('Failed to fetch'))) as unknown as typeof fetch;
    expect(await fetchBundleBytes('http://h/m/', offline)).toBeUndefined();
  });
});

describe('overlay maths', () => {
  it('reads the grid size from the last two dims and checks it holds the data', () => {
    expect(heatSize({ dims: [14, 14], data: new Float32Array(196) })).toEqual({ w: 14, h: 14 });
    expect(heatSize({ dims: [1, 2, 3], data: new Float32Array(6) })).toEqual({ w: 3, h: 2 });
    expect(() => heatSize({ dims: [14, 14], data: new Float32Array(10) })).toThrow(RangeError);
  });

  it('colours the upsampled map with jet (constant map → constant colour)', () => {
    const px = heatPixels({ dims: [14, 14], data: new Float32Array(196).fill(1) }, 32);
    expect(px.length).toBe(32 * 32 * 4);
    const [r, g, b] = jet(1);
    expect(Array.from(px.subarray(0, 4))).toEqual([r, g, b, 255]);
    expect(Array.from(px.subarray(px.length - 4))).toEqual([r, g, b, 255]);
  });

  it('keeps a hot corner in the same corner after upsampling', () => {
    const data = new Float32Array(196);
    data[0] = 1; // top-left cell hot
    const px = heatPixels({ dims: [14, 14], data }, HEAT_SIDE);
    const at = (x: number, y: number) => Array.from(px.subarray((y * HEAT_SIDE + x) * 4, (y * HEAT_SIDE + x) * 4 + 3));
    expect(at(0, 0)).toEqual(jet(1));
    expect(at(HEAT_SIDE - 1, HEAT_SIDE - 1)).toEqual(jet(0));
  });

  it('names snapshots safely after the explained class', () => {
    const date = new Date('2026-11-28T10:20:30.456Z');
    expect(snapshotName('tabby, tabby cat', date)).toBe('convlens-tabby-tabby-cat-2026-11-28T10-20-30-456.png');
    expect(snapshotName(undefined, date)).toBe('convlens-frame-2026-11-28T10-20-30-456.png');
    expect(snapshotName('***', date)).toBe('convlens-frame-2026-11-28T10-20-30-456.png');
  });
});

/** A ServiceWorker stand-in: state changes and posted messages. */
class FakeSW {
  state: ServiceWorkerState = 'installing';
  readonly posted: unknown[] = [];
  private listeners: (() => void)[] = [];
  addEventListener(_type: 'statechange', l: () => void): void {
    this.listeners.push(l);
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  become(state: ServiceWorkerState): void {
    this.state = state;
    for (const l of this.listeners) l();
  }
}

class FakeRegistration implements RegistrationLike {
  waiting: ServiceWorker | null = null;
  installing: ServiceWorker | null = null;
  private listeners = new Set<() => void>();
  addEventListener(_type: 'updatefound', l: () => void): void {
    this.listeners.add(l);
  }
  removeEventListener(_type: 'updatefound', l: () => void): void {
    this.listeners.delete(l);
  }
  found(worker: FakeSW): void {
    this.installing = worker as unknown as ServiceWorker;
    for (const l of this.listeners) l();
  }
}

class FakeContainer implements ContainerLike {
  controller: ServiceWorker | null = {} as ServiceWorker;
  private listeners: (() => void)[] = [];
  addEventListener(_type: 'controllerchange', l: () => void): void {
    this.listeners.push(l);
  }
  change(): void {
    for (const l of this.listeners) l();
  }
}

describe('service-worker update', () => {
  it('reports a version already waiting at start', () => {
    const reg = new FakeRegistration();
    const waiting = new FakeSW();
    reg.waiting = waiting as unknown as ServiceWorker;
    const seen: unknown[] = [];
    watchForUpdate(reg, new FakeContainer(), (w) => seen.push(w));
    expect(seen).toEqual([waiting]);
  });

  it('reports a new version once it is installed, not while installing', () => {
    const reg = new FakeRegistration();
    const seen: unknown[] = [];
    const stop = watchForUpdate(reg, new FakeContainer(), (w) => seen.push(w));
    const next = new FakeSW();
    reg.found(next);
    expect(seen).toEqual([]);
    next.become('installed');
    expect(seen).toEqual([next]);
    stop();
    reg.found(new FakeSW());
    expect(seen).toHaveLength(1);
  });

  it('does not call the very first install an update', () => {
    const reg = new FakeRegistration();
    const first = new FakeContainer();
    first.controller = null;
    const seen: unknown[] = [];
    watchForUpdate(reg, first, (w) => seen.push(w));
    const sw = new FakeSW();
    reg.found(sw);
    sw.become('installed');
    expect(seen).toEqual([]);
  });

  it('on accept: SKIP_WAITING, then one reload on controllerchange', () => {
    const sw = new FakeSW();
    const container = new FakeContainer();
    let reloads = 0;
    applyUpdate(sw as unknown as ServiceWorker, container, () => reloads++);
    expect(sw.posted).toEqual([{ type: 'SKIP_WAITING' }]);
    expect(reloads).toBe(0);
    container.change();
    container.change();
    expect(reloads).toBe(1);
  });
});
