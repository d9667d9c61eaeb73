/** The insight controller's browser effects: reading a still's pixels, its IndexedDB cache, timers. */
import type { InsightDeps } from './controller';
import { IdbFilterCache } from './store';

export function browserInsightDeps(): InsightDeps {
  let canvas: OffscreenCanvas | undefined;
  let ctx: OffscreenCanvasRenderingContext2D | undefined;
  return {
    cache: new IdbFilterCache(),
    pixels(still, side) {
      try {
        if (!canvas || !ctx || canvas.width !== side) {
          canvas = new OffscreenCanvas(side, side);
          ctx = canvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
          if (!ctx) throw new Error('this browser gives no 2D canvas: cannot read camera stills');
        }
        // The centre square, as the engine would crop it: the heatmap then covers exactly this picture.
        const s = Math.min(still.width, still.height);
        ctx.drawImage(still, (still.width - s) / 2, (still.height - s) / 2, s, s, 0, 0, side, side);
        return { width: side, height: side, data: ctx.getImageData(0, 0, side, side).data };
      } finally {
        still.close();
      }
    },
    schedule: (fn, ms) => void setTimeout(fn, ms),
  };
}
