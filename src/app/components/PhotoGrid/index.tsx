/** The selected class's photos: capture from the camera (press, or hold for a burst), pick files, delete. */
import type { PhotoView, TrainClass } from '../../train/state';

export interface PhotoGridProps {
  cls?: TrainClass;
  photos: PhotoView[];
  canCapture: boolean;
  capturing: boolean;
  disabled: boolean;
  onCapture(): void;
  onBurstStart(): void;
  onBurstStop(): void;
  onFiles(files: File[]): void;
  onDelete(id: string): void;
}

export function PhotoGrid(props: PhotoGridProps) {
  const { cls, photos, canCapture, capturing, disabled } = props;
  if (!cls) return <p class="hint">Add a class to start taking photos.</p>;
  return (
    <section class="photo-grid" aria-labelledby="photos-title" data-testid="photo-grid">
      <h3 id="photos-title">
        Photos of {cls.name} ({photos.length})
      </h3>
      <div class="photo-actions">
        {/* Pointer: hold for a burst. Keyboard (click with detail 0): one photo per press. */}
        <button
          type="button"
          class="capture"
          data-testid="capture"
          disabled={!canCapture || disabled}
          aria-pressed={capturing}
          onPointerDown={(e) => {
            (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
            props.onBurstStart();
          }}
          onPointerUp={props.onBurstStop}
          onPointerCancel={props.onBurstStop}
          onClick={(e) => e.detail === 0 && props.onCapture()}
        >
          {capturing ? 'Capturing…' : 'Capture (hold for burst)'}
        </button>
        <label class="file-pick">
          Add pictures
          <input
            type="file"
            accept="image/*"
            multiple
            data-testid="photo-files"
            disabled={disabled}
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              props.onFiles([...(input.files ?? [])]);
              input.value = '';
            }}
          />
        </label>
      </div>
      <ul class="thumbs" aria-live="polite">
        {photos.map((p, i) => (
          <li key={p.id} class="thumb" data-testid="thumb">
            <img src={p.url} alt={`${cls.name} photo ${i + 1}`} width={72} height={72} />
            <button
              type="button"
              aria-label={`Delete ${cls.name} photo ${i + 1}`}
              disabled={disabled}
              onClick={() => props.onDelete(p.id)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
