/** The training screen's effects (issue 4): classes, photos, training runs, classifiers. */
import type { FeatureContext } from '../feature';

export class TrainController {
  constructor(private readonly ctx: FeatureContext) {}

  /** The view was shown. */
  open(): void {
    this.ctx.dispatch({ type: 'train/ready', ready: true });
  }

  dispose(): void {}
}
