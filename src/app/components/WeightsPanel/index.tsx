/**
 * The ImageNet weights: one button to download and convert them, their source and its published SHA-256
 * (a setting), and progress.
 */
import { useState } from 'preact/hooks';
import type { PendingImport } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { DownloadState } from '../../library/state';
import { TransferProgress } from '../TransferProgress';
import { Sha256Field } from '../Sha256Field';
import { urlFormSubmit } from '../form';

export interface WeightsPanelProps {
  download: DownloadState;
  rate?: number;
  eta?: number;
  /** The source URL (the setting) and the published default. */
  url: string;
  defaultUrl: string;
  /** The file's published SHA-256 kept with the URL; '' when none. */
  sha256: string;
  /** A paused import of this URL, from an earlier visit. */
  pending?: PendingImport;
  /** A stored model with pretrained weights is ready. */
  haveWeights: boolean;
  online: boolean;
  blocked: boolean;
  onGet(): void;
  onPause(): void;
  /** Saves the source: '' and '' for the published one. */
  onSetUrl(url: string, sha256: string): void;
}

export function WeightsPanel(props: WeightsPanelProps) {
  const { download, pending, online, blocked } = props;
  const mine = download.status !== 'idle' && download.source === 'imagenet' ? download : undefined;
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const onSubmit = urlFormSubmit('weights-url', 'weights-sha256', props.onSetUrl, setProblem);
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
          <Sha256Field
            name="weights-sha256"
            defaultValue={props.sha256}
            key={props.url + props.sha256}
            problem={problem}
            onInput={() => setProblem(undefined)}
            testId="weights-sha256"
          />
          <div class="actions">
            <button type="submit" class="ghost" disabled={blocked}>
              Save source
            </button>
            {(props.url !== props.defaultUrl || props.sha256) && (
              <button type="button" class="ghost" disabled={blocked} onClick={() => props.onSetUrl('', '')}>
                Use the published source
              </button>
            )}
          </div>
          <p class="hint url">
            Now: {props.url}
            {props.sha256 && ` (SHA-256 ${props.sha256})`}
          </p>
        </form>
      </details>
    </section>
  );
}
