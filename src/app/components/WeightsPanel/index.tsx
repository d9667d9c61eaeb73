/** The ImageNet weights: one button to download and convert them, their source (a setting), and progress. */
import type { PendingImport } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { DownloadState } from '../../library/state';
import { TransferProgress } from '../TransferProgress';
import { submittedValue } from '../form';

export interface WeightsPanelProps {
  download: DownloadState;
  rate?: number;
  eta?: number;
  /** The source URL (the setting) and the published default. */
  url: string;
  defaultUrl: string;
  /** A paused import of this URL, from an earlier visit. */
  pending?: PendingImport;
  /** A stored model with pretrained weights is ready. */
  haveWeights: boolean;
  online: boolean;
  blocked: boolean;
  onGet(): void;
  onPause(): void;
  onSetUrl(url: string): void;
}

export function WeightsPanel(props: WeightsPanelProps) {
  const { download, pending, online, blocked } = props;
  const mine = download.status !== 'idle' && download.source === 'imagenet' ? download : undefined;
  const onSubmit = (ev: Event): void => props.onSetUrl(submittedValue(ev, 'weights-url'));
  return (
    <section class="panel weights-panel" aria-labelledby="weights-title">
      <h2 id="weights-title">ImageNet weights</h2>
      <p>
        VGG16 trained on ImageNet: real predictions for 1000 kinds of objects. About 550 MB to download, 140 MB stored
        on this device; converted as it arrives, and it resumes where it stopped.
      </p>
      {props.haveWeights && !mine && <p class="hint">ImageNet weights are stored on this device.</p>}
      {mine ? (
        <TransferProgress
          label="Getting the ImageNet weights"
          download={mine}
          rate={props.rate}
          eta={props.eta}
          blocked={!online || blocked}
          onPause={props.onPause}
          onResume={props.onGet}
          testId="weights-progress"
        />
      ) : (
        <button type="button" data-testid="get-weights" onClick={props.onGet} disabled={!online || blocked}>
          {pending ? `Resume ImageNet weights (${formatBytes(pending.done)} kept)` : 'Get ImageNet weights'}
        </button>
      )}
      {!online && <p class="hint">You are offline: connect to download the weights.</p>}
      <details class="weights-source">
        <summary>Download source</summary>
        <form onSubmit={onSubmit}>
          <label class="url-field">
            Weights URL (a safetensors, Keras .h5 or ONNX file, or a mirror of it)
            <input
              name="weights-url"
              type="url"
              class="url-input"
              defaultValue={props.url}
              key={props.url}
              data-testid="weights-url"
            />
          </label>
          <div class="actions">
            <button type="submit" class="ghost" disabled={blocked}>
              Save source
            </button>
            {props.url !== props.defaultUrl && (
              <button type="button" class="ghost" disabled={blocked} onClick={() => props.onSetUrl('')}>
                Use the published source
              </button>
            )}
          </div>
          <p class="hint url">Now: {props.url}</p>
        </form>
      </details>
    </section>
  );
}
