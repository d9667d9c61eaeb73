/** Train your own classifier: classes, photos, training progress, results, classifiers. */
import type { AppState } from '../../state';
import { selectPhotoCounts, selectTrainBlocker, type TrainSettings } from '../../train/state';
import { CameraError } from '../CameraError';
import { ClassifierList } from '../ClassifierList';
import { ClassList } from '../ClassList';
import { PhotoGrid } from '../PhotoGrid';
import { TrainPanel } from '../TrainPanel';
import { TrainResult } from '../TrainResult';
import { StillCamera } from '../StillCamera';

export interface TrainScreenActions {
  onVideo(video: HTMLVideoElement | null): void;
  onVideoSize(width: number, height: number): void;
  onRetryCamera(): void;
  onAddClass(name: string, colour: string): void;
  onRemoveClass(id: string): void;
  onCancelRemoveClass(): void;
  onSelectClass(id: string): void;
  onCapture(): void;
  onBurstStart(): void;
  onBurstStop(): void;
  onFiles(files: File[]): void;
  onDeletePhoto(id: string): void;
  onSettings(settings: Partial<TrainSettings>): void;
  onTrain(): void;
  onResume(): void;
  onCancel(): void;
  onUseClassifier(id: string | undefined): void;
  onExportClassifier(id: string): void;
  onDeleteClassifier(id: string): void;
  onImportClassifier(file: File): void;
}

export interface TrainScreenProps {
  state: AppState;
  actions: TrainScreenActions;
}

export function TrainScreen({ state, actions: a }: TrainScreenProps) {
  const { train, camera } = state;
  const busy = train.run?.status === 'running' || train.run?.status === 'cancelling';
  const cls = train.classes.find((c) => c.id === train.selected);
  const run = train.run;
  return (
    <div class="screen train-screen" data-testid="train-screen">
      <h2>Train your own classifier</h2>
      {!train.loaded && <p role="status">Reading your photos…</p>}
      <div class="train-capture">
        <StillCamera camera={camera} onVideo={a.onVideo} onVideoSize={a.onVideoSize} />
        {camera.status === 'error' && camera.problem && (
          <CameraError problem={camera.problem} onRetry={a.onRetryCamera} />
        )}
      </div>
      <ClassList
        classes={train.classes}
        counts={selectPhotoCounts(train)}
        selected={train.selected}
        confirmRemove={train.confirmRemove}
        disabled={busy}
        onSelect={a.onSelectClass}
        onAdd={a.onAddClass}
        onRemove={a.onRemoveClass}
        onCancelRemove={a.onCancelRemoveClass}
      />
      <PhotoGrid
        cls={cls}
        photos={train.photos.filter((p) => p.classId === train.selected)}
        canCapture={camera.status === 'live'}
        capturing={train.capturing}
        disabled={busy}
        onCapture={a.onCapture}
        onBurstStart={a.onBurstStart}
        onBurstStop={a.onBurstStop}
        onFiles={a.onFiles}
        onDelete={a.onDeletePhoto}
      />
      <TrainPanel
        settings={train.settings}
        run={run}
        resumable={train.resumable}
        blocker={selectTrainBlocker(train)}
        onSettings={a.onSettings}
        onTrain={a.onTrain}
        onResume={a.onResume}
        onCancel={a.onCancel}
      />
      {run?.status === 'done' && run.validation && (
        <TrainResult
          classes={run.classes ?? train.classes.map((c) => c.name)}
          validation={run.validation}
          chosen={run.chosen}
          outcome={run.outcome}
          photos={train.photos}
        />
      )}
      <ClassifierList
        classifiers={train.classifiers}
        active={train.active}
        canUse={state.model.status === 'ready'}
        onUse={a.onUseClassifier}
        onExport={a.onExportClassifier}
        onDelete={a.onDeleteClassifier}
        onImport={a.onImportClassifier}
      />
    </div>
  );
}
