/**
 * First run and model manager: the ImageNet weights first, the demo weights as the offline fallback,
 * weights from a URL or a file, the bundles the server publishes, the stored models.
 */
import type { ServedModel } from '../../../../workers/engine/protocol';
import { selectBusy, selectDemoStorage, selectReadyModels, selectTransferRate } from '../../selectors';
import { DEFAULT_WEIGHTS_URL, DEMO_MODEL_ID } from '../../library/state';
import type { AppState } from '../../state';
import { DownloadPanel } from '../DownloadPanel';
import { ImportPanel } from '../ImportPanel';
import { ModelList } from '../ModelList';
import { ServedList } from '../ServedList';
import { WeightsPanel } from '../WeightsPanel';

export interface ModelScreenActions {
  onDownload(): void;
  onCancelDownload(): void;
  onGetWeights(): void;
  /** The ImageNet weights' source and its published SHA-256 ('' when none). */
  onWeightsUrl(url: string, sha256: string): void;
  onImportUrl(url: string, sha256?: string): void;
  onDownloadServed(model: ServedModel): void;
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
  const blocked = busy || !engineReady;
  const activeId = model.status === 'none' ? undefined : model.id;
  const ready = selectReadyModels(state);
  const noModel = library.listed && ready.length === 0;
  const { rate, eta } = selectTransferRate(state);
  const weightsPending = library.pending.find((p) => p.url === library.weightsUrl);
  return (
    <div class="screen model-screen">
      <section class="panel intro" aria-labelledby="intro-title">
        <h2 id="intro-title">{noModel ? 'Get a model to start' : 'Models'}</h2>
        <p>
          convlens runs VGG16, a network trained to recognise 1000 kinds of objects in photos. Get the ImageNet weights
          for real predictions, or the small demo weights to try it on a slow connection. Models stay on this device and
          work offline.
        </p>
        {noModel && !online && (
          <p class="hint" role="status" data-testid="offline-no-model">
            You are offline and no model is stored yet. Connect to download the weights, or import a weights file.
          </p>
        )}
        {model.status === 'loading' && (
          <p role="status">
            Loading {model.id}
            {model.progress ? ` (${model.progress.phase})` : ''}…
          </p>
        )}
      </section>
      <WeightsPanel
        download={download}
        rate={rate}
        eta={eta}
        url={library.weightsUrl}
        sha256={library.weightsSha256}
        defaultUrl={DEFAULT_WEIGHTS_URL}
        pending={weightsPending}
        haveWeights={ready.some((m) => m.pretrained)}
        online={online}
        blocked={blocked}
        onGet={actions.onGetWeights}
        onPause={actions.onCancelDownload}
        onSetUrl={actions.onWeightsUrl}
      />
      <DownloadPanel
        download={download}
        stored={library.models.find((m) => m.id === DEMO_MODEL_ID)}
        storage={selectDemoStorage(state)}
        online={online}
        blocked={blocked}
        active={activeId === DEMO_MODEL_ID}
        onDownload={actions.onDownload}
        onCancel={actions.onCancelDownload}
        onUse={() => actions.onUse(DEMO_MODEL_ID)}
      />
      <ServedList
        served={library.served}
        stored={library.models}
        download={download}
        rate={rate}
        eta={eta}
        online={online}
        blocked={blocked}
        onDownload={actions.onDownloadServed}
        onPause={actions.onCancelDownload}
      />
      <ImportPanel
        job={job}
        disabled={blocked}
        onFile={actions.onImport}
        download={download}
        rate={rate}
        eta={eta}
        online={online}
        pending={library.pending.filter((p) => p !== weightsPending)}
        onUrl={actions.onImportUrl}
        onPause={actions.onCancelDownload}
      />
      <ModelList
        models={library.models}
        listed={library.listed}
        activeId={activeId}
        job={job}
        confirmDelete={library.confirmDelete}
        blocked={blocked}
        onUse={actions.onUse}
        onVerify={actions.onVerify}
        onDelete={actions.onDelete}
        onCancelDelete={actions.onCancelDelete}
      />
    </div>
  );
}
