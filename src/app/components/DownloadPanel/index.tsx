/** The demo model (small, the offline fallback): download with real progress, storage needed vs available, cancel and resume. */
import type { StoredModel } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { StorageNeed } from '../../selectors';
import type { DownloadState } from '../../library/state';
import { ProgressBar } from '../ProgressBar';

export interface DownloadPanelProps {
  download: DownloadState;
  /** The demo model in the store, complete or partial. */
  stored?: StoredModel;
  storage: StorageNeed;
  online: boolean;
  /** Another download or job is running, or the engine is not ready. */
  blocked: boolean;
  active: boolean;
  onDownload(): void;
  onCancel(): void;
  onUse(): void;
}

function StorageLine({ storage }: { storage: StorageNeed }) {
  if (!storage.needed && storage.available === undefined) return null;
  return (
    <p class={storage.fits ? 'storage' : 'storage storage-short'} data-testid="storage-need">
      {storage.needed > 0 ? `Needs ${formatBytes(storage.needed)}` : 'Size not known yet'}
      {storage.available !== undefined && ` · ${formatBytes(storage.available)} available on this device`}
      {!storage.fits && storage.available !== undefined && (
        <> — not enough: free {formatBytes(storage.needed - storage.available)} or delete a model first.</>
      )}
    </p>
  );
}

export function DownloadPanel(props: DownloadPanelProps) {
  const { stored, storage, online, blocked, active } = props;
  // Another source's download is not this panel's: it shows the demo's only.
  const download: DownloadState =
    props.download.status !== 'idle' && props.download.source === undefined ? props.download : { status: 'idle' };
  const running = download.status === 'running' || download.status === 'cancelling';
  if (stored?.ready && !running) {
    return (
      <section class="panel" aria-labelledby="demo-title">
        <h2 id="demo-title">Demo weights</h2>
        <p>The demo weights are stored on this device and verified.</p>
        <button type="button" onClick={props.onUse} disabled={active || blocked}>
          {active ? 'In use' : 'Use the demo model'}
        </button>
      </section>
    );
  }
  const resumable = download.status === 'stopped' || (stored !== undefined && stored.parts.some((p) => p.stored > 0));
  return (
    <section class="panel" aria-labelledby="demo-title">
      <h2 id="demo-title">Demo weights</h2>
      <p>
        Small and quick to get: every computation is real, but the predictions are meaningless. Use them to try convlens
        on a slow connection; they work offline once stored.
      </p>
      <StorageLine storage={storage} />
      {download.status !== 'idle' && (
        <ProgressBar label="Downloading the demo model" progress={download.progress} testId="download-progress" />
      )}
      {running ? (
        <button type="button" onClick={props.onCancel} disabled={download.status === 'cancelling'}>
          {download.status === 'cancelling' ? 'Stopping…' : 'Cancel download'}
        </button>
      ) : (
        <button type="button" data-testid="download-demo" onClick={props.onDownload} disabled={!online || blocked}>
          {resumable
            ? 'Resume download'
            : `Download the demo model${storage.needed ? ` (${formatBytes(storage.needed)})` : ''}`}
        </button>
      )}
      {!online && !running && (
        <p class="hint" data-testid="offline">
          You are offline: connect once to download. Importing weights from a file works offline.
        </p>
      )}
    </section>
  );
}
