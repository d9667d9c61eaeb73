/** The engine's life when it is not simply ready: starting, restarting after a crash, or stopped for good. */
import type { EngineState } from '../../state';

export interface EngineNoticeProps {
  engine: EngineState;
  onRestart(): void;
}

export function EngineNotice({ engine, onRestart }: EngineNoticeProps) {
  switch (engine.status) {
    case 'ready':
      return null;
    case 'starting':
      return (
        <p class="engine-notice" role="status">
          Starting the engine…
        </p>
      );
    case 'restarting':
      return (
        <p class="engine-notice" role="status">
          The engine stopped ({engine.reason ?? 'unknown reason'}) and is restarting…
        </p>
      );
    case 'failed':
      return (
        <div class="engine-notice engine-failed" role="alert">
          <p>The engine could not keep running. Your stored models are safe.</p>
          <button type="button" onClick={onRestart}>
            Restart engine
          </button>
        </div>
      );
  }
}
