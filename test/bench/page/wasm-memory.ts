/**
 * onnxruntime's WebAssembly memory, seen from the page: the runtime's JS glue creates one shared
 * `WebAssembly.Memory` (threaded build), which only grows, so its size is the heap's high-water mark.
 * The probe wraps the constructor before any runtime starts and remembers what it made.
 */
interface WasmMemory {
  buffer: { byteLength: number };
}
type MemoryConstructor = new (descriptor: unknown) => WasmMemory;
/** The page's `WebAssembly` (declared narrowly: the page is type-checked without the DOM lib). */
const wasm = (globalThis as unknown as { WebAssembly: { Memory: MemoryConstructor } }).WebAssembly;

const made: WasmMemory[] = [];

export function installWasmMemoryProbe(): void {
  wasm.Memory = new Proxy(wasm.Memory, {
    construct(target, args: [unknown]) {
      const m = new target(args[0]);
      made.push(m);
      return m as object;
    },
  });
}

/** The largest WebAssembly memory made in this page so far, in MB (0 if none). */
export function wasmMemoryMb(): number {
  return Math.max(0, ...made.map((m) => m.buffer.byteLength / 2 ** 20));
}
