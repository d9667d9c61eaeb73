/**
 * The root: subscribes to the store and lays out the screens. All behaviour is the controller's; this
 * only wires its methods to the dumb components. A render error shows a way out instead of a blank page.
 */
import { useEffect, useErrorBoundary, useMemo, useState } from 'preact/hooks';
import type { Controller } from '../../controller';
import { selectDemoWeights, selectShowUpdate } from '../../state';
import { EngineNotice } from '../EngineNotice';
import { ErrorBanner } from '../ErrorBanner';
import { Header } from '../Header';
import { LiveView, type LiveViewActions } from '../LiveView';
import { ModelScreen, type ModelScreenActions } from '../ModelScreen';
import { UpdatePrompt } from '../UpdatePrompt';

export interface AppProps {
  controller: Controller;
  /** Reloads the page (the error fallback's way out). */
  reload?: () => void;
}

export function App({ controller, reload = () => location.reload() }: AppProps) {
  const [state, setState] = useState(controller.store.state);
  useEffect(() => {
    setState(controller.store.state); // anything dispatched before this effect ran
    return controller.store.subscribe(setState);
  }, [controller]);
  const [crash] = useErrorBoundary((err: unknown) => console.error('render failed', err));

  const models = useMemo<ModelScreenActions>(
    () => ({
      onDownload: () => void controller.downloadDemo(),
      onCancelDownload: () => controller.cancelDownload(),
      onUse: (id) => void controller.useModel(id),
      onVerify: (id) => void controller.verifyModel(id),
      onDelete: (id) => void controller.deleteModel(id),
      onCancelDelete: () => controller.cancelDelete(),
      onImport: (file) => void controller.importFile(file),
    }),
    [controller],
  );
  const live = useMemo<LiveViewActions>(
    () => ({
      onVideo: (video) => controller.attachVideo(video),
      onVideoSize: (w, h) => controller.videoSize(w, h),
      onRetryCamera: () => controller.retryCamera(),
      onChoose: (choice) => controller.choose(choice),
      onOpacity: (opacity) => controller.setOpacity(opacity),
      onTogglePause: () => controller.togglePause(),
      onSwitchCamera: () => controller.switchCamera(),
      onSave: () => void controller.saveOverlay(),
    }),
    [controller],
  );

  if (crash) {
    return (
      <main class="app fatal" role="alert" data-testid="error">
        <h1>convlens stopped</h1>
        <p>{crash instanceof Error ? crash.message : String(crash)}</p>
        <button type="button" onClick={reload}>
          Reload
        </button>
      </main>
    );
  }

  const liveShown = state.view === 'live' && state.model.status !== 'none';
  return (
    <div class="app">
      <Header
        view={liveShown ? 'live' : 'models'}
        canGoLive={state.model.status !== 'none'}
        backend={state.engine.backend}
        isolated={state.engine.isolated}
        demoWeights={selectDemoWeights(state)}
        onView={(view) => controller.showView(view)}
      />
      {selectShowUpdate(state) || state.update === 'applying' ? (
        <UpdatePrompt
          applying={state.update === 'applying'}
          onReload={() => controller.acceptUpdate()}
          onLater={() => controller.dismissUpdate()}
        />
      ) : null}
      <EngineNotice engine={state.engine} onRestart={() => controller.restartEngine()} />
      {state.error && <ErrorBanner error={state.error} onDismiss={() => controller.dismissError()} onReload={reload} />}
      <p class="notice" role="status" aria-live="polite">
        {state.notice}
      </p>
      <main id="main">
        {liveShown ? <LiveView state={state} actions={live} /> : <ModelScreen state={state} actions={models} />}
      </main>
    </div>
  );
}
