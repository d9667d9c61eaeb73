/** The "Inside" screen's effects (issue 5): activation explorer, filter gallery, CAM variants, deletion score. */
import type { FeatureContext } from '../feature';

export class InsightController {
  constructor(private readonly ctx: FeatureContext) {}

  /** The view was shown. */
  open(): void {
    this.ctx.dispatch({ type: 'insight/ready', ready: true });
  }

  dispose(): void {}
}
