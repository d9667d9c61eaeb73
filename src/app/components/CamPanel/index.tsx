/** CAM variants: method and layer, the heatmap over the still it explains, and its deletion curve. */
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { CamMethod, InsightLayer } from '../../../../workers/engine/protocol';
import { describeError } from '../../errors';
import { paintCam } from '../../insight/draw';
import type { CamState } from '../../insight/state';
import { DeletionPlot } from '../DeletionPlot';
import { LayerSelect } from '../LayerSelect';

export const CAM_NAMES: Record<CamMethod, string> = {
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  layercam: 'Layer-CAM',
};

/** max − min of a heatmap: 0 is a blank map. */
const spread = (d: Float32Array) =>
  d.reduce((m, v) => Math.max(m, v), -Infinity) - d.reduce((m, v) => Math.min(m, v), Infinity);

export interface CamActions {
  onMethod(method: CamMethod): void;
  onLayer(layer: string): void;
  onExplain(): void;
  onFaithfulness(): void;
}

export interface CamPanelProps {
  layers: InsightLayer[];
  cam: CamState;
  actions: CamActions;
}

export function CamPanel({ layers, cam: c, actions: a }: CamPanelProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const x = c.explanation;
  useLayoutEffect(() => {
    if (ref.current && c.frame) paintCam(ref.current, c.frame, x?.heatmap);
  }, [c.frame, x]);
  const deleting = c.deletion.status === 'running';
  const name = CAM_NAMES[x?.cam ?? c.method];
  return (
    <section class="insight-panel" aria-labelledby="cam-title" data-testid="cam">
      <h3 id="cam-title">Class activation maps</h3>
      <div class="insight-controls">
        <label class="field">
          <span>Method</span>
          <select
            value={c.method}
            data-testid="cam-method"
            onChange={(e) => a.onMethod(e.currentTarget.value as CamMethod)}
          >
            {(Object.keys(CAM_NAMES) as CamMethod[]).map((m) => (
              <option key={m} value={m}>
                {CAM_NAMES[m]}
              </option>
            ))}
          </select>
        </label>
        <LayerSelect label="Layer" layers={layers} value={c.layer} testId="cam-layer" onChange={a.onLayer} />
        <button type="button" onClick={a.onExplain} disabled={c.busy} data-testid="cam-explain">
          New frame
        </button>
        <button
          type="button"
          onClick={a.onFaithfulness}
          disabled={!x || c.busy || deleting}
          data-testid="cam-faithfulness"
        >
          {deleting ? 'Scoring…' : 'Faithfulness'}
        </button>
      </div>
      <p class="insight-status" role="status" aria-live="polite" data-testid="cam-status">
        {c.error
          ? describeError(c.error).message
          : c.busy
            ? 'Explaining…'
            : x
              ? `${name} of ${x.layer} for “${x.target.label}” (${(100 * (x.top5[0]?.prob ?? 0)).toFixed(1)} % top-1) · ${Math.round(x.ms.total)} ms`
              : ''}
        {deleting && ' Deleting pixels step by step…'}
        {c.deletion.status === 'failed' && c.deletion.error && ` ${describeError(c.deletion.error).message}`}
      </p>
      {c.frame && (
        <canvas
          ref={ref}
          class="cam-canvas"
          data-testid="cam-canvas"
          data-cam={x?.cam}
          data-layer={x?.layer}
          data-heat-spread={x ? spread(x.heatmap.data).toFixed(4) : undefined}
          role="img"
          aria-label={x ? `${name} heatmap of ${x.layer} over the still` : 'The still'}
        />
      )}
      {c.deletion.result && <DeletionPlot result={c.deletion.result} name={name} />}
    </section>
  );
}
