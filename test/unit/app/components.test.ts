import { h, type VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { expectLabelled, modelInfo } from '../../helpers/app';
import { cameraErrorState } from '../../../src/app/camera/errors';
import { App } from '../../../src/app/components/App';
import { ErrorBanner } from '../../../src/app/components/ErrorBanner';
import { Header } from '../../../src/app/components/Header';
import { Sha256Field } from '../../../src/app/components/Sha256Field';
import { LiveView, type LiveViewActions } from '../../../src/app/components/LiveView';
import { ModelScreen, type ModelScreenActions } from '../../../src/app/components/ModelScreen';
import { Controller, type ControllerDeps, type EngineLike } from '../../../src/app/controller';
import { DEFAULT_WEIGHTS_URL, DEMO_MODEL_ID } from '../../../src/app/library/state';
import { initialState, reducer, type Action, type AppState } from '../../../src/app/state';
import { Store } from '../../../src/app/store';
import type { AnalyzeResult, BackendInfo, StoredModel } from '../../../workers/engine/protocol';

const noop = () => {};
const modelActions: ModelScreenActions = {
  onDownload: noop,
  onCancelDownload: noop,
  onGetWeights: noop,
  onWeightsUrl: noop,
  onImportUrl: noop,
  onDownloadServed: noop,
  onUse: noop,
  onVerify: noop,
  onDelete: noop,
  onCancelDelete: noop,
  onImport: noop,
};
const liveActions: LiveViewActions = {
  onVideo: noop,
  onVideoSize: noop,
  onRetryCamera: noop,
  onChoose: noop,
  onOpacity: noop,
  onTogglePause: noop,
  onSwitchCamera: noop,
  onSave: noop,
};

const stored = (id: string, over: Partial<StoredModel> = {}): StoredModel => ({
  id,
  source: 'demo',
  pretrained: false,
  quantization: 'int8',
  parts: [{ name: 'base', bytes: 15_000_000, stored: 15_000_000, complete: true }],
  ready: true,
  ...over,
});
const info = (pretrained: boolean) => modelInfo('m', { pretrained });
const result: AnalyzeResult = {
  top5: [
    { index: 281, label: 'tabby', prob: 0.62 },
    { index: 285, label: 'Egyptian cat', prob: 0.21 },
    { index: 282, label: 'tiger cat', prob: 0.09 },
    { index: 287, label: 'lynx', prob: 0.05 },
    { index: 999, label: 'toilet tissue', prob: 0.01 },
  ],
  target: { index: 281, label: 'tabby' },
  heatmap: { dims: [14, 14], data: new Float32Array(196) },
  ms: { preprocess: 12, run: 600, total: 615 },
};

const state = (actions: Action[], from = initialState()): AppState => actions.reduce(reducer, from);
const ready: Action[] = [
  { type: 'engine/ready', backend: { device: 'wasm', threads: 1, fallbackReason: 'no adapter' } },
];
const liveState = (pretrained = false): AppState =>
  state([
    ...ready,
    { type: 'model/loading', id: 'm' },
    { type: 'model/ready', info: info(pretrained) },
    { type: 'camera/live', canSwitch: true },
    { type: 'camera/size', width: 640, height: 480 },
  ]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any component's vnode
const html = (node: VNode<any>): string => renderToString(node);

describe('ModelScreen', () => {
  it('first run: the plain explanation, the demo download with its size, import and the empty list', () => {
    const s = state([
      ...ready,
      { type: 'library/listed', models: [] },
      { type: 'library/demo-size', bytes: 58_800_000 },
      { type: 'library/storage', estimate: { usage: 0, quota: 2e9, persisted: false } },
    ]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    // The real weights first, the demo as the fallback; nothing about where the app was built.
    expect(out).not.toMatch(/No pretrained|cannot be downloaded|can be downloaded here/i);
    expect(out).toMatch(/data-testid="get-weights"[^>]*>Get ImageNet weights</);
    expect(out.indexOf('data-testid="get-weights"')).toBeLessThan(out.indexOf('data-testid="download-demo"'));
    expect(out).toMatch(/<input[^>]*type="url"[^>]*data-testid="import-url"/);
    expect(out).toContain('vgg16_weights_tf_dim_ordering_tf_kernels.h5');
    expect(out).toContain('vgg16-12.onnx');
    expect(out).toMatch(/data-testid="download-demo"[^>]*>Download the demo model \(58.8 MB\)/);
    expect(out).toMatch(/Needs 58.8 MB · 2.0 GB available/);
    expect(out).toMatch(/<input[^>]*type="file"[^>]*accept=".h5,.hdf5,.onnx"[^>]*data-testid="import-input"/);
    expect(out).toContain('data-testid="model-list"');
    expect(out).toContain('No model stored yet');
    expectLabelled(out);
  });

  it('a running download: a real <progress> with bytes and percent, and Cancel', () => {
    const s = state([
      ...ready,
      { type: 'library/listed', models: [] },
      { type: 'download/start', id: DEMO_MODEL_ID },
      { type: 'download/progress', progress: { phase: 'download', done: 14_700_000, total: 58_800_000 } },
    ]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toMatch(/<div class="progress" data-testid="download-progress">/);
    expect(out).toMatch(/<progress[^>]*max="58800000"[^>]*value="14700000"/);
    expect(out).toContain('14.7 MB of 58.8 MB (25 %)');
    expect(out).toContain('Cancel download');
    expect(out).not.toContain('data-testid="download-demo"');
  });

  it('a stopped download offers Resume; not enough storage says how much to free', () => {
    const s = state([
      ...ready,
      { type: 'library/demo-size', bytes: 100_000_000 },
      { type: 'library/storage', estimate: { usage: 950_000_000, quota: 1_000_000_000, persisted: false } },
      { type: 'download/start', id: DEMO_MODEL_ID },
      { type: 'download/failed', error: { name: 'AbortError', message: '' } },
    ]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toMatch(/data-testid="download-demo"[^>]*>Resume download/);
    expect(out).toMatch(/not enough: free 50.0 MB/);
  });

  it('offline with no model: says so, download disabled, import still possible', () => {
    const s = state([...ready, { type: 'library/listed', models: [] }], initialState({ online: false }));
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toContain('data-testid="offline-no-model"');
    expect(out).toMatch(
      /<button[^>]*disabled[^>]*data-testid="download-demo"|<button[^>]*data-testid="download-demo"[^>]*disabled/,
    );
    expect(out).not.toMatch(/<input[^>]*disabled[^>]*data-testid="import-input"/);
  });

  it('lists stored models with size, state and labelled actions; delete asks for confirmation', () => {
    const s = state([
      ...ready,
      {
        type: 'library/listed',
        models: [
          stored(DEMO_MODEL_ID),
          stored('half', {
            ready: false,
            parts: [{ name: 'base', bytes: 15_000_000, stored: 5_000_000, complete: false }],
          }),
        ],
      },
      { type: 'library/confirm-delete', id: 'half' },
    ]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toContain('data-model-id="vgg16-demo"');
    expect(out).toMatch(/seeded demo · demo weights · int8 · 15.0 MB/);
    expect(out).toContain('5.0 MB of 15.0 MB');
    expect(out).toContain('incomplete');
    expect(out).toContain('aria-label="Re-verify vgg16-demo"');
    expect(out).toContain('aria-label="Delete vgg16-demo"');
    expect(out).toContain('Delete half for good');
    expect(out).toContain('The demo weights are stored on this device and verified');
    expectLabelled(out);
  });
});

describe('ModelScreen: weights from a URL', () => {
  const bytes = (done: number, total = 550_000_000) => ({ phase: 'download', done, total, unit: 'bytes' as const });

  it('getting the ImageNet weights: bytes, rate, time left, an announced progress and Pause; the demo stays available', () => {
    const s = state([
      ...ready,
      { type: 'library/listed', models: [] },
      { type: 'download/start', id: DEFAULT_WEIGHTS_URL, source: 'imagenet' },
      { type: 'download/progress', progress: bytes(100_000_000), at: 0 },
      { type: 'download/progress', progress: bytes(150_000_000), at: 10_000 },
    ]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toMatch(/data-testid="weights-progress"/);
    expect(out).toContain('150 MB of 550 MB (27 %)');
    expect(out).toMatch(/data-testid="transfer-rate">5.0 MB\/s · 1 min left</);
    expect(out).toMatch(/aria-live="polite">20 % downloaded</);
    expect(out).toMatch(/data-testid="transfer-pause"[^>]*>Pause</);
    expect(out).not.toContain('data-testid="get-weights"');
    // The demo panel does not show another source's progress as its own.
    expect(out).toMatch(/data-testid="download-demo"[^>]*disabled/);
    expect(out).not.toContain('Downloading the demo model');
    expectLabelled(out);
  });

  it('a paused import offers Resume with what is kept; an error leaves the source editable', () => {
    const paused = state([
      ...ready,
      {
        type: 'library/served',
        served: [],
        pending: [{ id: 'vgg16.tv_in1k', url: DEFAULT_WEIGHTS_URL, done: 120e6, total: 550e6 }],
      },
    ]);
    const out = html(h(ModelScreen, { state: paused, actions: modelActions }));
    expect(out).toMatch(/data-testid="get-weights"[^>]*>Resume ImageNet weights \(120 MB kept\)/);
    expect(out).toMatch(
      /<input[^>]*type="url"[^>]*value="https:\/\/huggingface.co[^"]*"[^>]*data-testid="weights-url"/,
    );
    const stopped = state([
      ...ready,
      { type: 'download/start', id: 'https://x.test/w.onnx', source: 'url' },
      { type: 'download/progress', progress: bytes(1e6, 2e6), at: 0 },
      { type: 'download/failed', error: { name: 'WeightsNetworkError', message: 'could not download' } },
    ]);
    const out2 = html(h(ModelScreen, { state: stopped, actions: modelActions }));
    expect(out2).toMatch(/data-testid="import-url-progress"/);
    expect(out2).toMatch(/data-testid="transfer-resume"[^>]*>Resume download/);
    expect(out2).toMatch(/aria-live="polite">Download paused</);
  });

  it('both URL forms have a labelled, optional SHA-256 field; the ImageNet one shows the kept setting', () => {
    const sha = 'ab'.repeat(32);
    const s = state([...ready, { type: 'library/weights-url', url: 'https://mirror.test/w.safetensors', sha256: sha }]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    for (const name of ['weights-sha256', 'import-sha256']) {
      expect(out).toMatch(
        new RegExp(
          `<label class="url-field">SHA-256 \\(optional\\)<input name="${name}" type="text"[^>]*aria-describedby="${name}-hint"`,
        ),
      );
      expect(out).toMatch(new RegExp(`<p id="${name}-hint" class="hint">`));
    }
    expect(out).toMatch(new RegExp(`<input name="weights-sha256"[^>]*value="${sha}"`));
    expect(out).not.toMatch(/<input name="import-sha256"[^>]*value=/);
    expect(out).not.toContain('aria-invalid');
    expect(out).toContain(`Now: https://mirror.test/w.safetensors (SHA-256 ${sha})`);
    expectLabelled(out);
  });

  it('a SHA-256 field with a problem is marked invalid and described by the problem, announced', () => {
    const problem = 'A SHA-256 is 64 hexadecimal digits (0–9, a–f); this one has 63.';
    const out = html(h(Sha256Field, { name: 'import-sha256', problem, onInput: noop, testId: 'import-sha256' }));
    expect(out).toMatch(
      /<input[^>]*aria-invalid="true"[^>]*aria-describedby="import-sha256-problem import-sha256-hint"/,
    );
    expect(out).toContain(`<p id="import-sha256-problem" class="field-problem" role="alert"`);
    expect(out).toContain(problem);
    expectLabelled(out);
  });

  it('lists the models the server publishes with a Download button, and none when it publishes none', () => {
    const served = {
      id: 'vgg16-real',
      url: 'https://h.test/models/vgg16-real/',
      source: 'safetensors',
      pretrained: true,
      quantization: 'int8' as const,
      parts: [
        { name: 'base' as const, bytes: 14_700_000 },
        { name: 'imagenet-head' as const, bytes: 124_000_000 },
      ],
    };
    const s = state([...ready, { type: 'library/served', served: [served], pending: [] }]);
    const out = html(h(ModelScreen, { state: s, actions: modelActions }));
    expect(out).toMatch(/data-testid="served-list"/);
    expect(out).toMatch(/aria-label="Download vgg16-real \(139 MB\)"/);
    expect(html(h(ModelScreen, { state: state(ready), actions: modelActions }))).not.toContain('served-list');
  });
});

describe('LiveView', () => {
  it('video (playsinline, muted, autoplay), overlay canvas, top-5 buttons, fps and ms', () => {
    const s = state(
      [
        { type: 'frame/result', result, at: 0 },
        { type: 'frame/result', result, at: 625 },
        { type: 'live/choose', choice: 285 },
      ],
      liveState(),
    );
    const out = html(h(LiveView, { state: s, actions: liveActions }));
    expect(out).toMatch(/<video[^>]*data-testid="live-video"/);
    expect(out).toMatch(/<video[^>]*playsinline/i);
    expect(out).toMatch(/<video[^>]*muted/);
    expect(out).toMatch(/<video[^>]*autoplay/);
    expect(out).toMatch(
      /<canvas[^>]*data-testid="overlay-canvas"[^>]*aria-label="Grad-CAM heatmap: where the network looks for “tabby”"/,
    );
    expect(out).toContain('data-testid="top5"');
    expect((out.match(/class="class-button"/g) ?? []).length).toBe(5);
    expect(out).toMatch(/aria-pressed="true"[^>]*aria-label="Egyptian cat, 21 %: show its heatmap"/);
    expect(out).toMatch(/class="choice-auto" aria-pressed="false"/);
    expect(out).toMatch(/data-testid="fps">1.6 fps</);
    expect(out).toContain('615 ms');
    expect(out).toContain('Use front camera');
    expect(out).toContain('Heatmap opacity');
    expectLabelled(out);
  });

  it('says when the live view runs its slower plain base, and why; says nothing otherwise', () => {
    const slow = { ...result, slowBase: 'Aborted(). Build with -sASSERTIONS for more info.' };
    const out = html(
      h(LiveView, { state: state([{ type: 'frame/result', result: slow, at: 0 }], liveState()), actions: liveActions }),
    );
    expect(out).toMatch(/role="status" data-testid="slow-base"/);
    expect(out).toContain('slower plain network');
    expect(out).toContain('Aborted(). Build with -sASSERTIONS');
    const normal = html(
      h(LiveView, { state: state([{ type: 'frame/result', result, at: 0 }], liveState()), actions: liveActions }),
    );
    expect(normal).not.toContain('slow-base');
  });

  it('a camera error shows its own message and retry', () => {
    const s = state([{ type: 'camera/failed', problem: cameraErrorState({ name: 'NotReadableError' }) }], liveState());
    const out = html(h(LiveView, { state: s, actions: liveActions }));
    expect(out).toMatch(/data-testid="camera-error" data-kind="busy"/);
    expect(out).toContain('The camera is busy');
    expect(out).toContain('Try again');
  });

  it('paused: frozen badge and "paused" instead of a rate', () => {
    const s = state([{ type: 'live/paused', paused: true }], liveState());
    const out = html(h(LiveView, { state: s, actions: liveActions }));
    expect(out).toContain('Frozen frame');
    expect(out).toMatch(/data-testid="fps">paused</);
    expect(out).toMatch(/aria-pressed="true"[^>]*data-testid="pause"/);
  });
});

describe('Header and banners', () => {
  it('shows the backend in words and the demo badge only for demo weights', () => {
    const demo = html(
      h(Header, {
        view: 'live',
        canGoLive: true,
        backend: { device: 'wasm', threads: 1, fallbackReason: 'x' },
        isolated: false,
        demoWeights: true,
        onView: noop,
        onMemorySaver: noop,
      }),
    );
    expect(demo).toMatch(
      /data-testid="backend"[^>]*>WebGPU unavailable: WASM · 1 thread: page not cross-origin isolated</,
    );
    expect(demo).toContain('data-testid="demo-badge"');
    const real = html(
      h(Header, {
        view: 'live',
        canGoLive: true,
        backend: { device: 'webgpu', threads: 4 },
        isolated: true,
        demoWeights: false,
        onView: noop,
        onMemorySaver: noop,
      }),
    );
    expect(real).toMatch(/>WebGPU · 4 threads</);
    expect(real).not.toContain('demo-badge');
  });

  it('offers the memory saver on WASM as a toggle that shows its state (WebGPU has no Winograd base to save)', () => {
    const header = (backend: BackendInfo) =>
      html(
        h(Header, {
          view: 'live',
          canGoLive: true,
          backend,
          isolated: true,
          demoWeights: false,
          onView: noop,
          onMemorySaver: noop,
        }),
      );
    expect(header({ device: 'wasm', threads: 2 })).toMatch(
      /<button[^>]*data-testid="memory-saver"[^>]*aria-pressed="false"/,
    );
    expect(header({ device: 'wasm', threads: 2, lowMemory: true })).toMatch(
      /<button[^>]*data-testid="memory-saver"[^>]*aria-pressed="true"[^>]*>Memory saver</,
    );
    expect(header({ device: 'webgpu', threads: 2 })).not.toContain('memory-saver');
  });

  it('an error banner titles the error by name and keeps its message', () => {
    const out = html(
      h(ErrorBanner, { error: { name: 'QuotaError', message: 'needs 140 MB more' }, onDismiss: noop, onReload: noop }),
    );
    expect(out).toMatch(/role="alert" data-testid="error" data-error-name="QuotaError"/);
    expect(out).toContain('Not enough storage');
    expect(out).toContain('needs 140 MB more');
    expect(out).not.toContain('>Reload<');
  });

  it("a checksum mismatch shows the engine's message and points at the SHA-256", () => {
    const message = `https://x.test/w.onnx has sha256 ${'0'.repeat(64)}, not the published ${'cd'.repeat(32)}`;
    const out = html(
      h(ErrorBanner, { error: { name: 'WeightsChecksumError', message }, onDismiss: noop, onReload: noop }),
    );
    expect(out).toContain('Not the published file');
    expect(out).toContain(message);
    expect(out).toMatch(/class="hint">Check that the SHA-256 is the one published/);
  });

  it('offers a reload when another tab upgraded the storage', () => {
    const error = { name: 'StorageBlockedError', message: 'reload this page' };
    const out = html(h(ErrorBanner, { error, onDismiss: noop, onReload: noop }));
    expect(out).toContain('>Reload<');
    expect(out).toContain('convlens was updated in another tab');
  });
});

describe('App', () => {
  function app(s: AppState): string {
    const engine = { dispose: noop } as unknown as EngineLike;
    const settings = { get: () => undefined, set: noop };
    const deps = { store: new Store(s), createBridge: () => engine, settings } as unknown as ControllerDeps;
    return html(h(App, { controller: new Controller(deps) }));
  }

  it('is never blank: before the engine answers it shows the header, a status and the model screen', () => {
    const out = app(initialState());
    expect(out).toContain('convlens');
    expect(out).toContain('Starting the engine…');
    expect(out).toContain('Get ImageNet weights');
    expectLabelled(out);
  });

  it('shows the live view with the demo badge once a demo model is ready', () => {
    const out = app(liveState(false));
    expect(out).toContain('data-testid="live-video"');
    expect(out).toContain('data-testid="demo-badge"');
    expect(app(liveState(true))).not.toContain('data-testid="demo-badge"');
  });

  it('offers the update unless a download runs', () => {
    const available = state([{ type: 'update/available' }]);
    expect(app(available)).toContain('Update available — reload');
    expect(app(state([{ type: 'download/start', id: DEMO_MODEL_ID }], available))).not.toContain('Update available');
  });

  it('a failed engine offers a restart', () => {
    const out = app(state([{ type: 'engine/failed', error: { name: 'WorkerCrashError', message: 'keeps stopping' } }]));
    expect(out).toContain('Restart engine');
    expect(out).toContain('data-testid="error"');
  });
});
