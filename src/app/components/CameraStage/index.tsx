/**
 * The camera with the Grad-CAM overlay: <video> and a canvas of the same intrinsic size stacked with the
 * same object-fit, so they line up at any screen size. Opacity is a CSS custom property (no redraw; CSP
 * allows CSSOM writes), which blends exactly like blendHeatmap: (1 − a)·frame + a·jet.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Grid } from '../../../../workers/engine/protocol';
import { drawHeatmap } from '../../overlay/heat';

export interface CameraStageProps {
  width: number;
  height: number;
  heat?: Grid;
  targetLabel?: string;
  opacity: number;
  mirrored: boolean;
  paused: boolean;
  /** A short status over the picture ("Starting the camera…"), if any. */
  status?: string;
  onVideo(video: HTMLVideoElement | null): void;
  onVideoSize(width: number, height: number): void;
}

export function CameraStage(props: CameraStageProps) {
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<HTMLCanvasElement | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    // Preact sets these as properties; the attributes are what iOS autoplay and some tests look for.
    el.muted = true;
    el.setAttribute('muted', '');
    el.setAttribute('playsinline', '');
    const onSize = (): void => latest.current.onVideoSize(el.videoWidth, el.videoHeight);
    el.addEventListener('loadedmetadata', onSize);
    el.addEventListener('resize', onSize);
    latest.current.onVideo(el);
    return () => {
      el.removeEventListener('loadedmetadata', onSize);
      el.removeEventListener('resize', onSize);
      latest.current.onVideo(null);
    };
  }, []);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    scratch.current ??= document.createElement('canvas');
    drawHeatmap(el, scratch.current, props.heat, props.width, props.height);
  }, [props.heat, props.width, props.height]);

  useEffect(() => {
    canvas.current?.style.setProperty('--heat-opacity', String(props.opacity));
  }, [props.opacity]);

  const cls = `stage${props.mirrored ? ' mirrored' : ''}`;
  // The stage takes the camera's aspect ratio, so the picture fills its width (CSSOM, allowed by the CSP).
  const aspect = props.width > 0 && props.height > 0 ? { '--stage-aspect': `${props.width} / ${props.height}` } : {};
  return (
    <div class={cls} style={aspect}>
      <video
        ref={video}
        class="stage-video"
        data-testid="live-video"
        aria-label="Camera view"
        playsInline
        muted
        autoplay
      />
      <canvas
        ref={canvas}
        class="stage-overlay"
        data-testid="overlay-canvas"
        role="img"
        aria-label={
          props.heat && props.targetLabel
            ? `Grad-CAM heatmap: where the network looks for “${props.targetLabel}”`
            : 'Grad-CAM heatmap (none yet)'
        }
      />
      {props.paused && <span class="stage-badge">Frozen frame</span>}
      {props.status && (
        <p class="stage-status" role="status">
          {props.status}
        </p>
      )}
    </div>
  );
}
