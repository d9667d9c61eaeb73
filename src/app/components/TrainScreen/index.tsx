/** Train your own classifier (issue 4): classes, photos, training progress, results, classifiers. */
import type { AppState } from '../../state';

export interface TrainScreenActions {
  onOpen?(): void;
}

export interface TrainScreenProps {
  state: AppState;
  actions: TrainScreenActions;
}

export function TrainScreen(_props: TrainScreenProps) {
  return (
    <div class="screen train-screen" data-testid="train-screen">
      <h2>Train your own classifier</h2>
    </div>
  );
}
