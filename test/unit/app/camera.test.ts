import { describe, expect, it } from 'vitest';
import { cameraErrorState, type CameraProblemKind } from '../../../src/app/camera/errors';
import {
  centerSquare,
  frameReady,
  grabFrame,
  startGrabber,
  type BitmapFactory,
  type VideoSource,
} from '../../../src/app/camera/grabber';
import { cameraConstraints, CameraSession, type MediaDevicesLike } from '../../../src/app/camera/session';
import { deferred, FakeBitmap, settle } from './fake-worker';

/** getUserMedia rejects with DOMExceptions; Node has DOMException too. */
const dom = (name: string, message = 'm') => new DOMException(message, name);

describe('cameraErrorState', () => {
  const cases: [string, CameraProblemKind, RegExp][] = [
    ['NotAllowedError', 'denied', /blocked/i],
    ['PermissionDeniedError', 'denied', /blocked/i],
    ['SecurityError', 'insecure', /secure pages/i],
    ['NotFoundError', 'not-found', /no camera found/i],
    ['DevicesNotFoundError', 'not-found', /no camera found/i],
    ['NotReadableError', 'busy', /busy/i],
    ['TrackStartError', 'busy', /busy/i],
    ['OverconstrainedError', 'overconstrained', /requested settings/i],
    ['ConstraintNotSatisfiedError', 'overconstrained', /requested settings/i],
    ['AbortError', 'aborted', /interrupted|stopped/i],
    ['NotSupportedError', 'unsupported', /not available/i],
    ['TypeError', 'unsupported', /not available/i],
  ];

  it.each(cases)('%s → %s with its own message and a retry', (name, kind, title) => {
    const p = cameraErrorState(dom(name));
    expect(p.kind).toBe(kind);
    expect(p.name).toBe(name);
    expect(`${p.title} ${p.message}`).toMatch(title);
    expect(p.retry).toBeTruthy();
  });

  it('gives every kind a distinct title', () => {
    const titles = new Set(cases.map(([name]) => cameraErrorState(dom(name))).map((p) => `${p.kind}:${p.title}`));
    const kinds = new Set(cases.map(([, kind]) => kind));
    expect(new Set([...titles].map((t) => t.split(':')[1])).size).toBe(kinds.size);
  });

  it('tells the user what to do when access is denied', () => {
    expect(cameraErrorState(dom('NotAllowedError')).message).toMatch(/allow camera access/i);
  });

  it('offers a relaxed retry for OverconstrainedError and names the constraint', () => {
    const e = Object.assign(dom('OverconstrainedError'), { constraint: 'facingMode' });
    const p = cameraErrorState(e);
    expect(p.relax).toBe(true);
    expect(p.retry).toBe('Use any camera');
    expect(p.message).toContain('facingMode');
    expect(cameraErrorState(dom('NotAllowedError')).relax).toBe(false);
  });

  it('shows unknown errors by name and message', () => {
    const p = cameraErrorState(dom('WeirdError', 'the driver said no'));
    expect(p.kind).toBe('unknown');
    expect(p.message).toBe('WeirdError: the driver said no');
    expect(cameraErrorState('nope').kind).toBe('unknown');
    expect(cameraErrorState(undefined).message).toMatch(/unknown error/);
  });
});

describe('cameraConstraints', () => {
  it('asks for a facing mode as a preference, never exact', () => {
    const c = cameraConstraints('environment');
    expect(c.video).toMatchObject({ facingMode: { ideal: 'environment' } });
    expect(JSON.stringify(c)).not.toContain('exact');
    expect(c.audio).toBe(false);
    expect(cameraConstraints('user').video).toMatchObject({ facingMode: { ideal: 'user' } });
  });

  it('drops every preference when relaxed', () => {
    expect(cameraConstraints('user', true)).toEqual({ audio: false, video: true });
  });
});

/** A stream whose tracks record when they were stopped, in a shared log. */
function fakeStream(log: string[], tag: string): MediaStream {
  const track = { stop: () => log.push(`stop ${tag}`) };
  return { getTracks: () => [track] } as unknown as MediaStream;
}

describe('CameraSession', () => {
  it('stops the current tracks before asking for the other camera', async () => {
    const log: string[] = [];
    let n = 0;
    const media: MediaDevicesLike = {
      getUserMedia: async (c) => {
        const facing = (c.video as { facingMode: { ideal: string } }).facingMode.ideal;
        log.push(`open ${facing}`);
        return fakeStream(log, `${facing}#${++n}`);
      },
    };
    const session = new CameraSession(media);
    await session.open('environment');
    await session.open('user');
    expect(log).toEqual(['open environment', 'stop environment#1', 'open user']);
    session.stop();
    expect(log.at(-1)).toBe('stop user#2');
    expect(session.stream).toBeUndefined();
  });

  it('stops a stream that arrives after a newer open or a stop', async () => {
    const log: string[] = [];
    const slow = deferred<MediaStream>();
    const media: MediaDevicesLike = { getUserMedia: () => slow.promise };
    const session = new CameraSession(media);
    const opening = session.open('environment');
    session.stop();
    slow.resolve(fakeStream(log, 'late'));
    await expect(opening).resolves.toBeUndefined();
    expect(log).toEqual(['stop late']);
    expect(session.stream).toBeUndefined();
  });

  it('passes getUserMedia errors through for cameraErrorState', async () => {
    const session = new CameraSession({ getUserMedia: async () => Promise.reject(dom('NotReadableError')) });
    const err = await session.open('environment').catch((e: unknown) => e);
    expect(cameraErrorState(err).kind).toBe('busy');
  });

  it('fails with NotSupportedError without mediaDevices (insecure origin)', async () => {
    const err = await new CameraSession(undefined).open('environment').catch((e: unknown) => e);
    expect((err as Error).name).toBe('NotSupportedError');
    expect(cameraErrorState(err).kind).toBe('unsupported');
  });

  it('knows when there is more than one camera to switch between', async () => {
    const devices = (kinds: string[]) => async () => kinds.map((kind) => ({ kind }) as MediaDeviceInfo);
    const none = async () => Promise.reject(new Error('x'));
    const gum = async () => fakeStream([], 'x');
    expect(
      await new CameraSession({
        getUserMedia: gum,
        enumerateDevices: devices(['videoinput', 'audioinput']),
      }).hasSeveralCameras(),
    ).toBe(false);
    expect(
      await new CameraSession({
        getUserMedia: gum,
        enumerateDevices: devices(['videoinput', 'videoinput']),
      }).hasSeveralCameras(),
    ).toBe(true);
    expect(await new CameraSession({ getUserMedia: gum, enumerateDevices: none }).hasSeveralCameras()).toBe(false);
    expect(await new CameraSession({ getUserMedia: gum }).hasSeveralCameras()).toBe(false);
  });
});

describe('frame grabbing', () => {
  it('centerSquare is the largest centred square', () => {
    expect(centerSquare(1280, 720)).toEqual({ x: 280, y: 0, side: 720 });
    expect(centerSquare(480, 640)).toEqual({ x: 0, y: 80, side: 480 });
    expect(centerSquare(5, 4)).toEqual({ x: 0, y: 0, side: 4 });
  });

  const video = (over: Partial<VideoSource> = {}): VideoSource => ({
    videoWidth: 1280,
    videoHeight: 720,
    readyState: 4,
    ...over,
  });

  it('grabs the centre square scaled to the input size', async () => {
    const calls: unknown[][] = [];
    const create: BitmapFactory = async (...args) => {
      calls.push(args.slice(1));
      return new FakeBitmap(224, 224) as unknown as ImageBitmap;
    };
    await grabFrame(video(), 224, create);
    expect(calls).toEqual([[280, 0, 720, 720, { resizeWidth: 224, resizeHeight: 224, resizeQuality: 'high' }]]);
  });

  it('grabs nothing before the first frame', async () => {
    const create: BitmapFactory = async () => {
      throw new Error('must not be called');
    };
    expect(await grabFrame(video({ readyState: 1 }), 224, create)).toBeUndefined();
    expect(await grabFrame(video({ videoWidth: 0 }), 224, create)).toBeUndefined();
  });

  it('waits for the first frame of a video just given its stream, and no longer than its timeout', async () => {
    const listeners = new Set<() => void>();
    const v = {
      ...video({ readyState: 0 }),
      addEventListener: (_: 'loadeddata', l: () => void) => void listeners.add(l),
      removeEventListener: (_: 'loadeddata', l: () => void) => void listeners.delete(l),
    };
    let ready = false;
    const waiting = frameReady(v, 60_000).then(() => (ready = true));
    await settle();
    expect(ready).toBe(false);
    Object.assign(v, { readyState: 2 });
    for (const l of listeners) l();
    await waiting;
    expect(listeners.size).toBe(0);
    // A video with a frame resolves at once; one that never gets a frame, after the timeout.
    await frameReady(v, 60_000);
    const t0 = Date.now();
    await frameReady({ ...v, readyState: 0 }, 20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
  });

  /** A grabber driven by hand: `tick()` runs one animation frame. */
  function manual(wanted: () => boolean, create: BitmapFactory) {
    let queued: (() => void) | undefined;
    let cancelled = false;
    const sent: FakeBitmap[] = [];
    const stop = startGrabber({
      video: video(),
      wanted,
      inputSize: () => 224,
      send: (b) => sent.push(b as unknown as FakeBitmap),
      create,
      schedule: (tick) => {
        queued = tick;
        return 1;
      },
      cancel: () => {
        cancelled = true;
      },
    });
    // tick() runs the last scheduled frame even after a cancel, to check the grabber's own guard.
    return { sent, stop, tick: () => queued?.(), cancelled: () => cancelled };
  }

  it('grabs only when wanted, one bitmap at a time', async () => {
    let idle = false;
    let made = 0;
    const pending = deferred<ImageBitmap>();
    const g = manual(
      () => idle,
      () => {
        made++;
        return pending.promise;
      },
    );
    g.tick();
    expect(made).toBe(0);
    idle = true;
    g.tick();
    g.tick(); // still making the first: no second bitmap
    expect(made).toBe(1);
    pending.resolve(new FakeBitmap(224, 224, 'f') as unknown as ImageBitmap);
    await settle();
    expect(g.sent.map((b) => b.tag)).toEqual(['f']);
    g.stop();
  });

  it('closes a bitmap that is no longer wanted when it arrives, and stops ticking', async () => {
    let idle = true;
    const pending = deferred<ImageBitmap>();
    const g = manual(
      () => idle,
      () => pending.promise,
    );
    g.tick();
    idle = false; // e.g. paused, or a still frame went first
    const bitmap = new FakeBitmap(224, 224);
    pending.resolve(bitmap as unknown as ImageBitmap);
    await settle();
    expect(g.sent).toEqual([]);
    expect(bitmap.closed).toBe(true);

    g.stop();
    expect(g.cancelled()).toBe(true);
    idle = true;
    g.tick();
    await settle();
    expect(g.sent).toEqual([]);
  });
});
