/**
 * A Worker stand-in for the bridge tests: a real Comlink.expose() on the far side, messages delivered
 * asynchronously and copied the way postMessage copies them — objects in the transfer list MOVE (an
 * ArrayBuffer is really detached with structuredClone; a FakeBitmap is detached like an ImageBitmap,
 * width and height 0), everything else is cloned, so a forgotten transfer leaves the sender's object intact.
 */
import * as Comlink from 'comlink';
import type { WorkerLike } from '../../../src/app/bridge/lifecycle';

/** Mimics the ImageBitmap life cycle: close() and transfer both leave width × height = 0. */
export class FakeBitmap {
  detached = false;
  closed = false;
  constructor(
    public width: number,
    public height: number,
    public readonly tag = '',
  ) {}
  close(): void {
    this.closed = true;
    this.width = 0;
    this.height = 0;
  }
  /** The receiver's copy; this one becomes detached. */
  moveOut(): FakeBitmap {
    if (this.detached || this.closed) throw new DOMException('An ImageBitmap is detached or closed', 'DataCloneError');
    const copy = new FakeBitmap(this.width, this.height, this.tag);
    this.detached = true;
    this.width = 0;
    this.height = 0;
    return copy;
  }
}

type Listener = (ev: { data: unknown }) => void;

/** Copy a message as postMessage(message, transfer) would. */
export function cloneMessage(message: unknown, transfer: readonly unknown[]): unknown {
  const buffers = new Map<ArrayBuffer, ArrayBuffer>();
  const buffer = (b: ArrayBuffer): ArrayBuffer => {
    let out = buffers.get(b);
    if (!out) {
      out = transfer.includes(b) ? structuredClone(b, { transfer: [b] }) : b.slice(0);
      buffers.set(b, out);
    }
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'function') throw new DOMException('a function could not be cloned', 'DataCloneError');
      return v;
    }
    if (v instanceof FakeBitmap) {
      if (transfer.includes(v)) return v.moveOut();
      return new FakeBitmap(v.width, v.height, v.tag);
    }
    if (v instanceof MessagePort) {
      if (!transfer.includes(v)) throw new DOMException('a MessagePort must be transferred', 'DataCloneError');
      return v;
    }
    if (v instanceof ArrayBuffer) return buffer(v);
    if (ArrayBuffer.isView(v)) {
      const Ctor = v.constructor as new (b: ArrayBuffer, offset: number, length: number) => ArrayBufferView;
      const perElement = (v as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const { byteOffset, byteLength } = v; // read before the transfer detaches the view
      return new Ctor(buffer(v.buffer as ArrayBuffer), byteOffset, byteLength / perElement);
    }
    if (Array.isArray(v)) return v.map(walk);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(message);
}

/** One side of the channel: listeners plus a postMessage that delivers a copy to the other side. */
class Side {
  readonly listeners = new Map<string, Set<Listener>>();
  other!: Side;
  closed = false;
  addEventListener(type: string, listener: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }
  emit(type: string, ev: { data?: unknown; message?: string }): void {
    for (const l of [...(this.listeners.get(type) ?? [])]) l(ev as { data: unknown });
  }
  postMessage(message: unknown, transfer: unknown[] = []): void {
    if (this.closed) return;
    const copy = cloneMessage(message, transfer);
    queueMicrotask(() => {
      if (!this.closed && !this.other.closed) this.other.emit('message', { data: copy });
    });
  }
}

export class FakeWorker implements WorkerLike {
  private readonly outer = new Side();
  private readonly inner = new Side();
  /** Every message the bridge posted, with its transfer list as given. */
  readonly sent: { message: unknown; transfer: unknown[] }[] = [];
  terminated = false;

  constructor(engine: object) {
    this.outer.other = this.inner;
    this.inner.other = this.outer;
    Comlink.expose(engine, this.inner as unknown as Comlink.Endpoint);
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.sent.push({ message, transfer });
    this.outer.postMessage(message, transfer);
  }
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    this.outer.addEventListener(type, listener as unknown as Listener);
  }
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    this.outer.removeEventListener(type, listener as unknown as Listener);
  }
  terminate(): void {
    this.terminated = true;
    this.outer.closed = true;
    this.inner.closed = true;
  }
  /** A message the worker posts itself, outside Comlink (e.g. the library's storage events). */
  notify(data: unknown): void {
    this.inner.postMessage(data);
  }
  /** What a worker does when its script throws at top level or its WASM dies: an `error` event. */
  crash(message = 'boom'): void {
    this.outer.emit('error', { message });
  }
}

/** A promise with its resolve/reject exposed, for engines whose answers the test releases by hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let queued microtasks and message deliveries run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
