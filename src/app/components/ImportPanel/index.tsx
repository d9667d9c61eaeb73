/**
 * Weights from elsewhere: a file on this device (Keras .h5, ONNX), or any URL of a weights file
 * (safetensors, .h5, ONNX) or a convlens model folder, converted as it downloads and resumable.
 */
import { useState } from 'preact/hooks';
import type { PendingImport } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { DownloadState, JobState } from '../../library/state';
import { ProgressBar } from '../ProgressBar';
import { TransferProgress } from '../TransferProgress';
import { Sha256Field } from '../Sha256Field';
import { urlFormSubmit } from '../form';

export interface ImportPanelProps {
  job?: JobState;
  disabled: boolean;
  onFile(file: File): void;
  download: DownloadState;
  rate?: number;
  eta?: number;
  online: boolean;
  /** Paused URL imports (other than the ImageNet source's). */
  pending: PendingImport[];
  /** A URL to import (or resume), with the file's published SHA-256 when the form gives one. */
  onUrl(url: string, sha256?: string): void;
  onPause(): void;
}

export function ImportPanel(props: ImportPanelProps) {
  const { job, disabled, onFile, download, online } = props;
  const importing = job?.kind === 'import';
  const mine = download.status !== 'idle' && download.source === 'url' ? download : undefined;
  const onChange = (ev: Event): void => {
    const input = ev.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // choosing the same file again must fire change again
    if (file) onFile(file);
  };
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const onSubmit = urlFormSubmit('import-url', 'import-sha256', props.onUrl, setProblem);
  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Other weights</h2>
      <form class="url-form" onSubmit={onSubmit}>
        <label class="url-field">
          URL of a weights file (safetensors, Keras .h5, ONNX) or of a convlens model folder (ending in /)
          <input
            name="import-url"
            type="url"
            class="url-input"
            required
            placeholder="https://…"
            data-testid="import-url"
          />
        </label>
        <Sha256Field
          name="import-sha256"
          problem={problem}
          onInput={() => setProblem(undefined)}
          testId="import-sha256"
        />
        <button type="submit" disabled={disabled || !online || mine !== undefined} data-testid="import-url-go">
          Download and convert
        </button>
      </form>
      {mine && (
        <TransferProgress
          label={`Downloading ${mine.id}`}
          download={mine}
          rate={props.rate}
          eta={props.eta}
          blocked={disabled || !online}
          onPause={props.onPause}
          onResume={() => props.onUrl(mine.id)}
          testId="import-url-progress"
        />
      )}
      {!mine &&
        props.pending.map((p) => (
          <p class="actions url" key={p.id}>
            <span>
              Paused: {p.url} ({formatBytes(p.done)}
              {p.total ? ` of ${formatBytes(p.total)}` : ''})
            </span>
            <button type="button" class="ghost" disabled={disabled || !online} onClick={() => props.onUrl(p.url)}>
              Resume
            </button>
          </p>
        ))}
      <p>
        Or a file on this device: Keras <code>vgg16_weights_tf_dim_ordering_tf_kernels.h5</code> (or{' '}
        <code>…_notop.h5</code>) or ONNX model zoo <code>vgg16-12.onnx</code>. The file stays on this device.
      </p>
      <label class={disabled || importing ? 'file-button disabled' : 'file-button'}>
        Choose a weights file…
        <input
          type="file"
          class="visually-hidden"
          accept=".h5,.hdf5,.onnx"
          data-testid="import-input"
          disabled={disabled || importing}
          onChange={onChange}
        />
      </label>
      {importing && <ProgressBar label={`Importing ${job.target}`} progress={job.progress} testId="import-progress" />}
    </section>
  );
}
