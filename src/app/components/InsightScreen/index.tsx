/** The Inside screen (the `insight` feature): activation explorer, filter gallery, CAM variants, deletion score. */
import type { InsightTab } from '../../insight/state';
import type { AppState } from '../../state';
import { CamPanel, type CamActions } from '../CamPanel';
import { ExplorerPanel, type ExplorerActions } from '../ExplorerPanel';
import { FilterGallery, type GalleryActions } from '../FilterGallery';
import { StillCamera } from '../StillCamera';

export interface InsightScreenActions {
  onVideo(video: HTMLVideoElement | null): void;
  onVideoSize(width: number, height: number): void;
  onTab(tab: InsightTab): void;
  explorer: ExplorerActions;
  gallery: GalleryActions;
  cam: CamActions;
}

export interface InsightScreenProps {
  state: AppState;
  actions: InsightScreenActions;
}

const TABS: { tab: InsightTab; label: string }[] = [
  { tab: 'explorer', label: 'Activations' },
  { tab: 'filters', label: 'Filters' },
  { tab: 'cam', label: 'CAM' },
];

export function InsightScreen({ state, actions: a }: InsightScreenProps) {
  const { insight: s, camera } = state;
  return (
    <div class="screen insight-screen" data-testid="insight-screen">
      <h2>Inside the network</h2>
      <div class="insight-camera">
        <StillCamera camera={camera} onVideo={a.onVideo} onVideoSize={a.onVideoSize} />
      </div>
      <nav class="insight-tabs" aria-label="Ways to look inside">
        {TABS.map(({ tab, label }) => (
          <button
            key={tab}
            type="button"
            data-testid={`insight-tab-${tab}`}
            aria-current={s.tab === tab ? 'true' : undefined}
            onClick={() => a.onTab(tab)}
          >
            {label}
          </button>
        ))}
      </nav>
      {s.tab === 'explorer' ? (
        <ExplorerPanel layers={s.layers} explorer={s.explorer} actions={a.explorer} />
      ) : s.tab === 'filters' ? (
        <FilterGallery layers={s.layers} gallery={s.gallery} actions={a.gallery} />
      ) : (
        <CamPanel layers={s.layers} cam={s.cam} actions={a.cam} />
      )}
    </div>
  );
}
