/** A running or paused download: bytes, rate and time left, Pause (keeps what is stored) or Resume. */
import type { Progress } from '../../../../workers/engine/protocol';
import { formatEta, formatRate, percent } from '../../format';
import type { DownloadState } from '../../library/state';
import { ProgressBar } from '../ProgressBar';

export interface TransferProgressProps {
  /** What is downloading, e.g. "Getting the ImageNet weights". */
  label: string;
  download: Exclude<DownloadState, { status: 'idle' }>;
  rate?: number;
  eta?: number;
  /** Resume is not possible now (offline, engine busy). */
  blocked: boolean;
  onPause(): void;
  onResume(): void;
  testId?: string;
}

/** Announced at most every 10 %: a screen reader hears the download move without a flood of numbers. */
function announcement(status: string, p: Progress | undefined): string {
  if (status === 'stopped') return 'Download paused';
  if (!p || !(p.total > 0)) return 'Download started';
  if (p.phase === 'verify') return 'Checking the converted model';
  return `${Math.floor(percent(p.done, p.total) / 10) * 10} % downloaded`;
}

export function TransferProgress(props: TransferProgressProps) {
  const { download, rate, eta } = props;
  const running = download.status !== 'stopped';
  const detail = [rate ? formatRate(rate) : '', eta !== undefined && running ? formatEta(eta) : '']
    .filter(Boolean)
    .join(' · ');
  return (
    <div class="transfer" data-testid={props.testId}>
      <ProgressBar label={props.label} progress={download.progress} />
      {running && detail && (
        <p class="hint" data-testid="transfer-rate">
          {detail}
        </p>
      )}
      <p class="visually-hidden" aria-live="polite">
        {announcement(download.status, download.progress)}
      </p>
      {download.status === 'stopped' ? (
        <button type="button" onClick={props.onResume} disabled={props.blocked} data-testid="transfer-resume">
          Resume download
        </button>
      ) : (
        <button
          type="button"
          class="ghost"
          onClick={props.onPause}
          disabled={download.status === 'cancelling'}
          data-testid="transfer-pause"
        >
          {download.status === 'cancelling' ? 'Pausing…' : 'Pause'}
        </button>
      )}
    </div>
  );
}
