/**
 * The camera as the Train and Inside screens use it: a running video that stills are grabbed from, with
 * the heatmap overlay hidden (opacity 0), never paused, mirrored for the selfie camera.
 */
import type { CameraState } from '../../state';
import { CameraStage } from '../CameraStage';

export interface StillCameraProps {
  camera: CameraState;
  onVideo(video: HTMLVideoElement | null): void;
  onVideoSize(width: number, height: number): void;
}

export function StillCamera({ camera, onVideo, onVideoSize }: StillCameraProps) {
  return (
    <CameraStage
      width={camera.width}
      height={camera.height}
      opacity={0}
      mirrored={camera.facing === 'user'}
      paused={false}
      status={camera.status === 'starting' ? 'Starting the camera…' : undefined}
      onVideo={onVideo}
      onVideoSize={onVideoSize}
    />
  );
}
