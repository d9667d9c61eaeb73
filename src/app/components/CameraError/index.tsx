/** A camera failure with its own message and a retry (NotAllowed, NotFound, NotReadable, Overconstrained…). */
import type { CameraProblem } from '../../camera/errors';

export interface CameraErrorProps {
  problem: CameraProblem;
  onRetry(): void;
}

export function CameraError({ problem, onRetry }: CameraErrorProps) {
  return (
    <div class="camera-error" role="alert" data-testid="camera-error" data-kind={problem.kind}>
      <strong>{problem.title}</strong>
      <p>{problem.message}</p>
      <button type="button" onClick={onRetry}>
        {problem.retry}
      </button>
    </div>
  );
}
