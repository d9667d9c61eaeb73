/**
 * The frame grabber: once per animation frame, when the engine is idle, the centre square of the video
 * becomes an ImageBitmap at the network's input size. The engine centre-crops anyway; cropping and
 * scaling here lets the browser do it on the GPU and keeps the transferred bitmap small.
 */

/** The part of a video element the grabber reads. */
export interface VideoSource {
  readonly videoWidth: number;
  readonly videoHeight: number;
  /** HTMLMediaElement.readyState; HAVE_CURRENT_DATA (2) or more means a frame can be read. */
  readonly readyState: number;
}

export interface Square {
  x: number;
  y: number;
  side: number;
}

/** The largest centred square of a width×height frame: the region the heatmap explains. */
export function centerSquare(width: number, height: number): Square {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), side };
}

export type BitmapFactory = (
  source: VideoSource,
  sx: number,
  sy: number,
  sw: number,
  sh: number,
  options: ImageBitmapOptions,
) => Promise<ImageBitmap>;

const HAVE_CURRENT_DATA = 2;

const browserFactory: BitmapFactory = (source, sx, sy, sw, sh, options) =>
  createImageBitmap(source as HTMLVideoElement, sx, sy, sw, sh, options);

/** The centre square of the current video frame, scaled to size×size; undefined before the first frame. */
export async function grabFrame(
  video: VideoSource,
  size: number,
  create: BitmapFactory = browserFactory,
): Promise<ImageBitmap | undefined> {
  if (video.readyState < HAVE_CURRENT_DATA || !video.videoWidth || !video.videoHeight) return undefined;
  const { x, y, side } = centerSquare(video.videoWidth, video.videoHeight);
  return create(video, x, y, side, side, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
}

/** A video that says when its first frame arrives (HTMLVideoElement's `loadeddata`). */
export interface LoadingVideo extends VideoSource {
  addEventListener(type: 'loadeddata', listener: () => void): void;
  removeEventListener(type: 'loadeddata', listener: () => void): void;
}

/**
 * Resolves once the video has a frame to read, or after `timeoutMs`: a video element just given the
 * camera's stream (the training screen's own) has none for a moment, longer in some engines (WebKit).
 */
export function frameReady(video: LoadingVideo, timeoutMs = 3000): Promise<void> {
  if (video.readyState >= HAVE_CURRENT_DATA && video.videoWidth) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      video.removeEventListener('loadeddata', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    video.addEventListener('loadeddata', done);
  });
}

export interface GrabberOptions {
  video: VideoSource;
  /** Whether a frame should be taken now: model ready, engine idle, not paused. */
  wanted(): boolean;
  inputSize(): number;
  /** Takes ownership of the bitmap (the bridge transfers it). */
  send(frame: ImageBitmap): void;
  onError?(err: unknown): void;
  create?: BitmapFactory;
  schedule?: (tick: () => void) => number;
  cancel?: (handle: number) => void;
}

/** Starts grabbing; returns the function that stops it. At most one bitmap is being made at a time. */
export function startGrabber(options: GrabberOptions): () => void {
  const schedule = options.schedule ?? ((tick) => requestAnimationFrame(tick));
  const cancel = options.cancel ?? ((handle) => cancelAnimationFrame(handle));
  let stopped = false;
  let making = false;
  let handle = 0;
  const tick = (): void => {
    if (stopped) return;
    handle = schedule(tick);
    if (making || !options.wanted()) return;
    making = true;
    grabFrame(options.video, options.inputSize(), options.create)
      .then(
        (bitmap) => {
          if (!bitmap) return;
          // The world may have moved on while the bitmap was made (stopped, paused, a still frame sent).
          if (stopped || !options.wanted()) bitmap.close();
          else options.send(bitmap);
        },
        (err: unknown) => options.onError?.(err),
      )
      .finally(() => {
        making = false;
      });
  };
  handle = schedule(tick);
  return () => {
    stopped = true;
    cancel(handle);
  };
}
