/** The bundles this app's server publishes (models/index.json): download one, base part first. */
import type { ServedModel, StoredModel } from '../../../../workers/engine/protocol';
import { formatBytes } from '../../format';
import type { DownloadState } from '../../library/state';
import { TransferProgress } from '../TransferProgress';

export interface ServedListProps {
  served: ServedModel[];
  stored: StoredModel[];
  download: DownloadState;
  rate?: number;
  eta?: number;
  online: boolean;
  blocked: boolean;
  onDownload(model: ServedModel): void;
  onPause(): void;
}

export function ServedList(props: ServedListProps) {
  const { served, download } = props;
  if (served.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="served-title">
      <h2 id="served-title">Models on this server</h2>
      <ul class="models" data-testid="served-list">
        {served.map((m) => {
          const have = props.stored.find((s) => s.id === m.id);
          const mine =
            download.status !== 'idle' && download.source === 'served' && download.id === m.id ? download : undefined;
          const bytes = m.parts.reduce((n, p) => n + p.bytes, 0);
          return (
            <li class="model" key={m.id} data-served-id={m.id}>
              <div class="model-head">
                <strong>{m.id}</strong>
                <span class={m.pretrained ? 'badge badge-ok' : 'badge'}>
                  {m.pretrained ? 'pretrained' : 'demo weights'}
                </span>
              </div>
              <p class="model-meta">
                {m.source} · {m.quantization} · {formatBytes(bytes)} · {m.parts.map((p) => p.name).join(', ')}
              </p>
              {mine ? (
                <TransferProgress
                  label={`Downloading ${m.id}`}
                  download={mine}
                  rate={props.rate}
                  eta={props.eta}
                  blocked={!props.online || props.blocked}
                  onPause={props.onPause}
                  onResume={() => props.onDownload(m)}
                />
              ) : have?.ready ? (
                <p class="hint">Stored on this device.</p>
              ) : (
                <button
                  type="button"
                  onClick={() => props.onDownload(m)}
                  disabled={!props.online || props.blocked}
                  aria-label={`Download ${m.id} (${formatBytes(bytes)})`}
                >
                  {have ? 'Resume download' : `Download (${formatBytes(bytes)})`}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
