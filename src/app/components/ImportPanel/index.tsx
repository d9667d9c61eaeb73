/** Import weights the user brings (Keras .h5 or ONNX-zoo .onnx); the engine converts and verifies them. */
import type { JobState } from '../../state';
import { ProgressBar } from '../ProgressBar';

export interface ImportPanelProps {
  job?: JobState;
  disabled: boolean;
  onFile(file: File): void;
}

export function ImportPanel({ job, disabled, onFile }: ImportPanelProps) {
  const importing = job?.kind === 'import';
  const onChange = (ev: Event): void => {
    const input = ev.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // choosing the same file again must fire change again
    if (file) onFile(file);
  };
  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import real weights</h2>
      <p>
        Keras <code>vgg16_weights_tf_dim_ordering_tf_kernels.h5</code> (or <code>…_notop.h5</code>) or ONNX model zoo{' '}
        <code>vgg16-12.onnx</code>. The file stays on this device.
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
