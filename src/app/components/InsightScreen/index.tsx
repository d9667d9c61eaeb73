/** Look inside the network (issue 5): activation explorer, filter gallery, CAM variants, deletion score. */
import type { AppState } from '../../state';

export interface InsightScreenActions {
  onOpen?(): void;
}

export interface InsightScreenProps {
  state: AppState;
  actions: InsightScreenActions;
}

export function InsightScreen(_props: InsightScreenProps) {
  return (
    <div class="screen insight-screen" data-testid="insight-screen">
      <h2>Inside the network</h2>
    </div>
  );
}
