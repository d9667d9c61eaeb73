/**
 * The camera stream: getUserMedia with `facingMode` as a preference (never `exact`, which fails outright
 * on laptops), and tracks stopped before another camera is opened (many phones cannot open two at once).
 */

export type Facing = 'environment' | 'user';

export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices?(): Promise<MediaDeviceInfo[]>;
}

/** The constraints for a camera; `relaxed` drops every preference after an OverconstrainedError. */
export function cameraConstraints(facing: Facing, relaxed = false): MediaStreamConstraints {
  if (relaxed) return { audio: false, video: true };
  return {
    audio: false,
    video: { facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } },
  };
}

/** Stop every track, which turns the camera light off. */
export function stopStream(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

function unsupported(): Error {
  const err = new Error('navigator.mediaDevices.getUserMedia is not available (it needs https:// or localhost)');
  err.name = 'NotSupportedError';
  return err;
}

/** One camera at a time: `open` stops the current stream first; a late stream from a superseded call is stopped. */
export class CameraSession {
  private current: MediaStream | undefined;
  private ticket = 0;

  constructor(private readonly media: MediaDevicesLike | undefined) {}

  get stream(): MediaStream | undefined {
    return this.current;
  }

  /** Opens the camera facing `facing`; resolves undefined when a newer open or stop superseded this one. */
  async open(facing: Facing, relaxed = false): Promise<MediaStream | undefined> {
    const ticket = ++this.ticket;
    this.release();
    if (!this.media?.getUserMedia) throw unsupported();
    const stream = await this.media.getUserMedia(cameraConstraints(facing, relaxed));
    if (ticket !== this.ticket) {
      stopStream(stream);
      return undefined;
    }
    this.current = stream;
    return stream;
  }

  /** Whether more than one camera exists, so a front/back switch makes sense (labels need a granted permission). */
  async hasSeveralCameras(): Promise<boolean> {
    try {
      const devices = (await this.media?.enumerateDevices?.()) ?? [];
      return devices.filter((d) => d.kind === 'videoinput').length > 1;
    } catch {
      return false;
    }
  }

  stop(): void {
    this.ticket++;
    this.release();
  }

  private release(): void {
    stopStream(this.current);
    this.current = undefined;
  }
}
