/** The training controller's browser effects: picture coding, object URLs, ids, downloads, its IndexedDB. */
import type { TrainDeps } from './controller';
import { TrainStore } from './store';

/** Short side of a stored photo: enough for a 224-pixel centre crop, small enough to keep many. */
export const PHOTO_SIDE = 256;

function canvas2d(width: number, height: number): { canvas: OffscreenCanvas; ctx: OffscreenCanvasRenderingContext2D } {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas: cannot store photos');
  return { canvas, ctx };
}

export function browserTrainDeps(): TrainDeps {
  return {
    store: new TrainStore(),
    async encode(bitmap) {
      try {
        const { canvas, ctx } = canvas2d(bitmap.width, bitmap.height);
        ctx.drawImage(bitmap, 0, 0);
        const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
        return { bytes: new Uint8Array(await blob.arrayBuffer()), type: blob.type || 'image/jpeg' };
      } finally {
        bitmap.close();
      }
    },
    decode: (bytes, type) => createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type })),
    async decodeFile(file, side) {
      const full = await createImageBitmap(file);
      const scale = Math.min(1, side / Math.min(full.width, full.height));
      if (scale === 1) return full;
      try {
        return await createImageBitmap(full, {
          resizeWidth: Math.max(1, Math.round(full.width * scale)),
          resizeHeight: Math.max(1, Math.round(full.height * scale)),
          resizeQuality: 'high',
        });
      } finally {
        full.close();
      }
    },
    url: (bytes, type) => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type })),
    revoke: (url) => URL.revokeObjectURL(url),
    download(bytes, name) {
      const url = URL.createObjectURL(
        new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
      );
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    id: () =>
      typeof crypto.randomUUID === 'function'
        ? crypto.randomUUID()
        : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    clock: () => Date.now(),
  };
}
