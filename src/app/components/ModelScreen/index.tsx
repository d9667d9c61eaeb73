/** First run and model manager: what the weights are, the demo download, importing, the stored models. */
import { selectBusy, selectDemoStorage, selectReadyModels } from '../../selectors';
import { DEMO_MODEL_ID, type AppState } from '../../state';
import { DownloadPanel } from '../DownloadPanel';
import { ImportPanel } from '../ImportPanel';
import { ModelList } from '../ModelList';

export interface ModelScreenActions {
  onDownload(): void;
  onCancelDownload(): void;
  onUse(id: string): void;
  onVerify(id: string): void;
  onDelete(id: string): void;
  onCancelDelete(): void;
  onImport(file: File): void;
}

export interface ModelScreenProps {
  state: AppState;
  actions: ModelScreenActions;
}

export function ModelScreen({ state, actions }: ModelScreenProps) {
  const { library, download, job, model, online } = state;
  const engineReady = state.engine.status === 'ready';
  const busy = selectBusy(state);
  const activeId = model.status === 'none' ? undefined : model.id;
  const noModel = library.listed && selectReadyModels(state).length === 0;
  return (
    <div class="screen model-screen">
      <section class="panel intro" aria-labelledby="intro-title">
        <h2 id="intro-title">{noModel ? 'Get a model to start' : 'Models'}</h2>
        <p>
          No pretrained ImageNet weights can be downloaded here. convlens ships seeded demo weights (predictions are
          meaningless, but every computation is real) and can import real weights you bring: Keras
          vgg16_weights_tf_dim_ordering_tf_kernels(_notop).h5 or ONNX-zoo vgg16-12.onnx.
        </p>
        {noModel && !online && (
          <p class="hint" role="status" data-testid="offline-no-model">
            You are offline and no model is stored yet. Connect to download the demo model, or import a weights file.
          </p>
        )}
        {model.status === 'loading' && (
          <p role="status">
            Loading {model.id}
            {model.progress ? ` (${model.progress.phase})` : ''}…
          </p>
        )}
      </section>
      <DownloadPanel
        download={download}
        stored={library.models.find((m) => m.id === DEMO_MODEL_ID)}
        storage={selectDemoStorage(state)}
        online={online}
        blocked={busy || !engineReady}
        active={activeId === DEMO_MODEL_ID}
        onDownload={actions.onDownload}
        onCancel={actions.onCancelDownload}
        onUse={() => actions.onUse(DEMO_MODEL_ID)}
      />
      <ImportPanel job={job} disabled={!engineReady || busy} onFile={actions.onImport} />
      <ModelList
        models={library.models}
        listed={library.listed}
        activeId={activeId}
        job={job}
        confirmDelete={library.confirmDelete}
        blocked={busy || !engineReady}
        onUse={actions.onUse}
        onVerify={actions.onVerify}
        onDelete={actions.onDelete}
        onCancelDelete={actions.onCancelDelete}
      />
    </div>
  );
}
