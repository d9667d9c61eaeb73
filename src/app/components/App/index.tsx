/**
 * The root: subscribes to the store and lays out the screens. All behaviour is the controller's; this
 * only wires its methods to the dumb components. A render error shows a way out instead of a blank page.
 */
import { useEffect, useErrorBoundary, useMemo, useState } from 'preact/hooks';
import type { Controller } from '../../controller';
import { selectDemoWeights, selectShowUpdate } from '../../selectors';
import { EngineNotice } from '../EngineNotice';
import { ErrorBanner } from '../ErrorBanner';
import { Header } from '../Header';
import { InsightScreen, type InsightScreenActions } from '../InsightScreen';
import { LiveView, type LiveViewActions } from '../LiveView';
import { ModelScreen, type ModelScreenActions } from '../ModelScreen';
import { TrainScreen, type TrainScreenActions } from '../TrainScreen';
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
      onDownload: () => void controller.library.downloadDemo(),
      onCancelDownload: () => controller.library.cancelDownload(),
      onGetWeights: () => void controller.library.getImageNetWeights(),
      onWeightsUrl: (url) => controller.library.setWeightsUrl(url),
      onImportUrl: (url) => void controller.library.importUrl(url),
      onDownloadServed: (model) => void controller.library.downloadServed(model),
      onUse: (id) => void controller.library.useModel(id),
      onVerify: (id) => void controller.library.verifyModel(id),
      onDelete: (id) => void controller.library.deleteModel(id),
      onCancelDelete: () => controller.library.cancelDelete(),
      onImport: (file) => void controller.library.importFile(file),
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
      onClassifier: (id) => void controller.train.classifiers.use(id),
    }),
    [controller],
  );

  const train = useMemo<TrainScreenActions>(() => {
    const t = controller.train;
    return {
      onVideo: (video) => controller.attachVideo(video),
      onVideoSize: (w, h) => controller.videoSize(w, h),
      onRetryCamera: () => controller.retryCamera(),
      onAddClass: (name, colour) => void t.addClass(name, colour),
      onRemoveClass: (id) => void t.removeClass(id),
      onCancelRemoveClass: () => t.cancelRemove(),
      onSelectClass: (id) => t.selectClass(id),
      onCapture: () => void t.capture(),
      onBurstStart: () => void t.startBurst(),
      onBurstStop: () => t.stopBurst(),
      onFiles: (files) => void t.addFiles(files),
      onDeletePhoto: (id) => void t.deletePhoto(id),
      onSettings: (settings) => t.setSettings(settings),
      onTrain: () => void t.runs.train(),
      onResume: () => void t.runs.resume(),
      onCancel: () => void t.runs.cancel(),
      onUseClassifier: (id) => void t.classifiers.use(id),
      onExportClassifier: (id) => void t.classifiers.export(id),
      onDeleteClassifier: (id) => void t.classifiers.delete(id),
      onImportClassifier: (file) => void t.classifiers.import(file),
    };
  }, [controller]);
  const insight = useMemo<InsightScreenActions>(() => {
    const i = controller.insight;
    return {
      onVideo: (video) => controller.attachVideo(video),
      onVideoSize: (w, h) => controller.videoSize(w, h),
      onTab: (tab) => i.setTab(tab),
      explorer: {
        onLayer: (layer) => i.setExplorerLayer(layer),
        onNorm: (norm) => i.setNorm(norm),
        onPage: (page) => i.setPage(page),
        onEnlarge: (channel) => i.enlarge(channel),
        onFollow: (follow) => i.setFollow(follow),
        onRefresh: () => void i.activations(),
      },
      gallery: {
        onLayer: (layer) => i.setGalleryLayer(layer),
        onCount: (count) => i.setGalleryCount(count),
        onSettings: (settings) => i.setGallerySettings(settings),
        onShow: () => void i.showFilters(),
        onCancel: () => i.cancelFilters(),
      },
      cam: {
        onMethod: (method) => i.setCamMethod(method),
        onLayer: (layer) => i.setCamLayer(layer),
        onExplain: () => void i.explain(true),
        onFaithfulness: () => void i.faithfulness(),
      },
    };
  }, [controller]);

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

  // Views that need a model fall back to the model screen while none is loaded.
  const view = state.model.status === 'none' ? 'models' : state.view;
  return (
    <div class="app">
      <Header
        view={view}
        canGoLive={state.model.status !== 'none'}
        backend={state.engine.backend}
        isolated={state.engine.isolated}
        demoWeights={selectDemoWeights(state)}
        onView={(view) => controller.showView(view)}
        onMemorySaver={(on) => controller.setMemorySaver(on)}
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
        {view === 'live' ? (
          <LiveView state={state} actions={live} />
        ) : view === 'train' ? (
          <TrainScreen state={state} actions={train} />
        ) : view === 'inside' ? (
          <InsightScreen state={state} actions={insight} />
        ) : (
          <ModelScreen state={state} actions={models} />
        )}
      </main>
    </div>
  );
}
