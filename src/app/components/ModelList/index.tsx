/** The stored models: size, completeness, and Use / Re-verify / Delete for each. */
import type { StoredModel, WeightSource } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { JobState } from '../../library/state';
import { ProgressBar } from '../ProgressBar';

export interface ModelListProps {
  models: StoredModel[];
  listed: boolean;
  activeId?: string;
  job?: JobState;
  confirmDelete?: string;
  /** No action may start (engine not ready, a download or job running). */
  blocked: boolean;
  onUse(id: string): void;
  onVerify(id: string): void;
  onDelete(id: string): void;
  onCancelDelete(): void;
}

const SOURCE: Readonly<Record<WeightSource, string>> = {
  demo: 'seeded demo',
  'keras-h5': 'Keras .h5',
  'onnx-zoo': 'ONNX zoo',
  safetensors: 'safetensors (timm, torchvision)',
};

function sizes(model: StoredModel): { total: number; stored: number } {
  return model.parts.reduce((s, p) => ({ total: s.total + p.bytes, stored: s.stored + p.stored }), {
    total: 0,
    stored: 0,
  });
}

function Row({ model, props }: { model: StoredModel; props: ModelListProps }) {
  const { total, stored } = sizes(model);
  const active = model.id === props.activeId;
  const job = props.job?.target === model.id ? props.job : undefined;
  const confirming = props.confirmDelete === model.id;
  const parts = model.parts.map((p) => `${p.name}${p.complete ? '' : ' (incomplete)'}`).join(', ');
  return (
    <li class="model" data-model-id={model.id}>
      <div class="model-head">
        <strong>{model.id}</strong>
        {active && <span class="badge">in use</span>}
        <span class={model.ready ? 'badge badge-ok' : 'badge badge-warn'}>{model.ready ? 'ready' : 'incomplete'}</span>
      </div>
      <p class="model-meta">
        {SOURCE[model.source]} · {model.pretrained ? 'pretrained' : 'demo weights'} · {model.quantization} ·{' '}
        {stored < total ? `${formatBytes(stored)} of ${formatBytes(total)}` : formatBytes(total)} · {parts}
      </p>
      {job && (
        <ProgressBar
          label={job.kind === 'verify' ? `Verifying ${model.id}` : `Deleting ${model.id}`}
          progress={job.progress}
        />
      )}
      <div class="actions">
        <button type="button" onClick={() => props.onUse(model.id)} disabled={!model.ready || active || props.blocked}>
          {active ? 'In use' : 'Use'}
        </button>
        <button
          type="button"
          onClick={() => props.onVerify(model.id)}
          disabled={props.blocked}
          aria-label={`Re-verify ${model.id}`}
        >
          Re-verify
        </button>
        {confirming ? (
          <>
            <button type="button" class="danger" onClick={() => props.onDelete(model.id)} disabled={props.blocked}>
              Delete {model.id} for good
            </button>
            <button type="button" class="ghost" onClick={props.onCancelDelete}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            onClick={() => props.onDelete(model.id)}
            disabled={props.blocked}
            aria-label={`Delete ${model.id}`}
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

export function ModelList(props: ModelListProps) {
  return (
    <section class="panel" aria-labelledby="models-title">
      <h2 id="models-title">Stored models</h2>
      {!props.listed ? (
        <p role="status">Reading the model library…</p>
      ) : props.models.length === 0 ? (
        <p data-testid="model-list-empty">No model stored yet.</p>
      ) : null}
      <ul class="models" data-testid="model-list">
        {props.models.map((m) => (
          <Row key={m.id} model={m} props={props} />
        ))}
      </ul>
    </section>
  );
}
