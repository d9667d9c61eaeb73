/** The live view: camera with heatmap, camera errors, top-5, stats and controls. */
import { selectFps } from '../../selectors';
import type { AppState, ClassChoice } from '../../state';
import { CameraError } from '../CameraError';
import { CameraStage } from '../CameraStage';
import { ClassifierSwitch } from '../ClassifierSwitch';
import { LiveControls } from '../LiveControls';
import { Stats } from '../Stats';
import { Top5 } from '../Top5';

export interface LiveViewActions {
  onVideo(video: HTMLVideoElement | null): void;
  onVideoSize(width: number, height: number): void;
  onRetryCamera(): void;
  onChoose(choice: ClassChoice): void;
  onOpacity(opacity: number): void;
  onTogglePause(): void;
  onSwitchCamera(): void;
  onSave(): void;
  /** Use one of my classifiers (id) or the ImageNet classes (undefined). */
  onClassifier?(id: string | undefined): void;
}

export interface LiveViewProps {
  state: AppState;
  actions: LiveViewActions;
}

/** What to say over the picture while it cannot show a heatmap yet. */
function stageStatus(state: AppState): string | undefined {
  if (state.camera.status === 'starting') return 'Starting the camera…';
  if (state.model.status === 'loading') {
    const phase = state.model.progress?.phase;
    return `Loading the model${phase ? ` (${phase})` : ''}…`;
  }
  if (state.engine.status === 'restarting') return 'Restarting the engine…';
  if (state.camera.status === 'live' && state.model.status === 'ready' && !state.live.result) return 'Analysing…';
  return undefined;
}

export function LiveView({ state, actions }: LiveViewProps) {
  const { camera, live } = state;
  const result = live.result;
  return (
    <div class="screen live-view">
      <div class="live-main">
        <CameraStage
          width={camera.width}
          height={camera.height}
          heat={result?.heatmap}
          targetLabel={result?.target.label}
          opacity={live.opacity}
          mirrored={camera.facing === 'user'}
          paused={live.paused}
          status={stageStatus(state)}
          onVideo={actions.onVideo}
          onVideoSize={actions.onVideoSize}
        />
        {camera.status === 'error' && camera.problem && (
          <CameraError problem={camera.problem} onRetry={actions.onRetryCamera} />
        )}
        <Stats fps={selectFps(state)} ms={result?.ms} paused={live.paused} />
        {result?.slowBase && (
          <p class="notice" role="status" data-testid="slow-base">
            Running the slower plain network (same results, about twice the time per frame): its faster Winograd form
            could not be built — {result.slowBase}
          </p>
        )}
      </div>
      <div class="live-side">
        {actions.onClassifier && (
          <ClassifierSwitch
            classifiers={state.train.classifiers.filter(
              (c) => state.model.status === 'ready' && c.modelId === state.model.id,
            )}
            active={state.train.active}
            onUse={actions.onClassifier}
          />
        )}
        <Top5 top5={result?.top5 ?? []} choice={live.choice} target={result?.target} onChoose={actions.onChoose} />
        <LiveControls
          opacity={live.opacity}
          paused={live.paused}
          canSwitch={camera.canSwitch}
          facing={camera.facing}
          canSave={camera.status === 'live' && camera.width > 0}
          snapshot={live.snapshot}
          onOpacity={actions.onOpacity}
          onTogglePause={actions.onTogglePause}
          onSwitch={actions.onSwitchCamera}
          onSave={actions.onSave}
        />
      </div>
    </div>
  );
}
