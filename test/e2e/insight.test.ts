/**
 * The "Inside" screen in Chromium on the demo model (TINY_VGG int8, 32-pixel input) and the fake camera:
 * the activation explorer renders channel maps of a camera frame and follows the frame; the filter
 * gallery computes N pictures with progress, then shows them from IndexedDB after a reload without
 * computing; the CAM method switch gives a new heatmap and the deletion curve is plotted.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clickDownload, originOf, serveAndLaunch, waitForPredictions } from './harness';

const SHOTS = '.e2e/screenshots';

/** Per canvas matching `selector`: how many distinct colours it holds (1 = uniform). */
function canvasColours(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (canvases) =>
    (canvases as HTMLCanvasElement[]).map((c) => {
      const ctx = c.getContext('2d');
      if (!ctx || !c.width || !c.height) return 0;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    }),
  );
}

/** Set a number field the way a person does: type, then leave it (the change event). */
async function setNumber(page: Page, testId: string, value: number): Promise<void> {
  await page.$eval(
    `[data-testid=${testId}]`,
    (el, v) => {
      const input = el as HTMLInputElement;
      input.value = String(v);
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

const text = (page: Page, testId: string) => page.$eval(`[data-testid=${testId}]`, (e) => e.textContent ?? '');

describe('the Inside screen', () => {
  const env = serveAndLaunch();
  let page: Page;
  let origin: string;

  beforeAll(async () => {
    origin = originOf(env.server.url);
    page = await env.session.open(env.server.url);
    await page.waitForSelector('[data-testid=download-demo]', { timeout: 90_000 });
    await clickDownload(page);
    await waitForPredictions(page);
    await mkdir(SHOTS, { recursive: true });
  });

  it('the explorer renders a grid of channel maps for a fake-camera frame, and follows the frame', async () => {
    await page.click('[data-testid=view-inside]');
    // The layer list arrives from the worker after the screen first paints.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=explorer-layer] option').length > 0, {
      timeout: 60_000,
    });
    const layers = await page.$$eval('[data-testid=explorer-layer] option', (o) => o.map((x) => x.textContent));
    expect(layers).toHaveLength(18); // 13 conv + 5 pool layers
    expect(layers[0]).toBe('block1_conv1 · 4×32×32');
    // block3_conv1 of the demo model: 8 channels of 8×8.
    await page.waitForSelector('[data-testid=explorer-tile]', { timeout: 60_000 });
    await page.select('[data-testid=explorer-layer]', 'block3_conv1');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=explorer-tile]').length === 8, {
      timeout: 60_000,
    });
    expect(await text(page, 'explorer-status')).toMatch(/block3_conv1: 8 channels of 8×8/);
    const colours = await canvasColours(page, '[data-testid=explorer-tile] canvas');
    expect(colours).toHaveLength(8);
    expect(colours.filter((n) => n > 1).length).toBeGreaterThanOrEqual(4); // live ReLU maps are not flat
    const labels = await page.$$eval('[data-testid=explorer-tile] .tile-index', (e) => e.map((x) => x.textContent));
    expect(labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);

    // Enlarge with the keyboard, per-layer normalisation, then follow the frame for a few runs.
    await page.focus('[data-testid=explorer-tile]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=explorer-enlarged] canvas');
    await page.click('input[name=norm]:not(:checked)');
    const runs = () => page.$eval('[data-testid=explorer-status]', (e) => Number(e.getAttribute('data-runs')));
    const before = await runs();
    await page.click('[data-testid=explorer-follow]');
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid=explorer-status]')?.getAttribute('data-runs')) >= n,
      { timeout: 60_000 },
      before + 3,
    );
    await page.click('[data-testid=explorer-follow]');
    await page.screenshot({ path: join(SHOTS, 'inside-explorer.png'), fullPage: true });
    env.session.assertClean(origin);
  });

  it('the filter gallery renders N tiles with progress, then from the cache after a reload', async () => {
    const configure = async () => {
      await page.click('[data-testid=insight-tab-filters]');
      await page.waitForSelector('[data-testid=gallery-layer] option');
      await page.select('[data-testid=gallery-layer]', 'block1_conv2');
      await setNumber(page, 'gallery-count', 4);
      await setNumber(page, 'gallery-steps', 8);
    };
    await configure();
    await page.click('[data-testid=gallery-show]');
    await page.waitForFunction(
      () =>
        /4 filters · 0 from the cache/.test(document.querySelector('[data-testid=gallery-status]')?.textContent ?? ''),
      { timeout: 120_000 },
    );
    expect(await page.$$eval('[data-testid=filter-tile]', (t) => t.map((x) => x.getAttribute('data-cached')))).toEqual([
      'false',
      'false',
      'false',
      'false',
    ]);
    const colours = await canvasColours(page, '[data-testid=filter-tile] canvas');
    expect(colours.every((n) => n > 50)).toBe(true); // structured pictures, not a flat gray
    await page.screenshot({ path: join(SHOTS, 'inside-filters.png'), fullPage: true });

    // Revisit after a reload: the choices are remembered and the pictures come from IndexedDB as soon as
    // the tab opens, without pressing anything and without an ascent step (no progress bar ever shows).
    await page.reload({ waitUntil: 'load' });
    await waitForPredictions(page);
    await page.evaluate(() => {
      const w = window as unknown as { sawProgress?: boolean };
      w.sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid=gallery-progress]')) w.sawProgress = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    await page.click('[data-testid=view-inside]');
    await page.waitForSelector('[data-testid=insight-tab-filters]');
    const t0 = Date.now();
    await page.click('[data-testid=insight-tab-filters]');
    await page.waitForFunction(
      () =>
        /4 filters · 4 from the cache/.test(document.querySelector('[data-testid=gallery-status]')?.textContent ?? ''),
      { timeout: 30_000 },
    );
    const ms = Date.now() - t0;
    expect(await page.$$eval('[data-testid=filter-tile]', (t) => t.map((x) => x.getAttribute('data-cached')))).toEqual([
      'true',
      'true',
      'true',
      'true',
    ]);
    expect(await page.evaluate(() => (window as unknown as { sawProgress?: boolean }).sawProgress)).toBe(false);
    expect(ms).toBeLessThan(5_000);
    const fields = await Promise.all(
      ['gallery-layer', 'gallery-count', 'gallery-steps'].map((id) =>
        page.$eval(`[data-testid=${id}]`, (e) => (e as HTMLInputElement).value),
      ),
    );
    expect(fields).toEqual(['block1_conv2', '4', '8']);
    const again = await canvasColours(page, '[data-testid=filter-tile] canvas');
    expect(again).toEqual(colours); // the same pictures
    env.session.assertClean(origin);
  });

  it('CAM: each method gives its own heatmap over the still; Faithfulness plots the deletion curve', async () => {
    await page.click('[data-testid=insight-tab-cam]');
    const heatmap = async (method: string, layer: string) => {
      const el = await page.waitForSelector(`[data-testid=cam-canvas][data-cam="${method}"][data-layer=${layer}]`, {
        timeout: 60_000,
      });
      const spread = Number(await el!.evaluate((e) => e.getAttribute('data-heat-spread')));
      const pixels = await el!.evaluate((c) => {
        const canvas = c as HTMLCanvasElement;
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let h = 0;
        for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i]! + 7 * d[i + 1]! + 13 * d[i + 2]!) >>> 0;
        return h;
      });
      return { spread, pixels };
    };
    // The seed's recipe first (Grad-CAM of block5_conv3, a 2×2 map at the demo model's 32 px), then the
    // three methods on block4_conv3 (4×4) for the same still: three different heatmaps.
    expect((await heatmap('gradcam', 'block5_conv3')).spread).toBeGreaterThan(0);
    await page.select('[data-testid=cam-layer]', 'block4_conv3');
    const maps = [await heatmap('gradcam', 'block4_conv3')];
    for (const method of ['gradcam++', 'layercam']) {
      await page.select('[data-testid=cam-method]', method);
      maps.push(await heatmap(method, 'block4_conv3'));
    }
    for (const m of maps) expect(m.spread).toBeGreaterThan(0);
    expect(new Set(maps.map((m) => m.pixels)).size).toBe(3);

    await page.click('[data-testid=cam-faithfulness]');
    await page.waitForSelector('[data-testid=deletion-plot]', { timeout: 120_000 });
    expect(await page.$$eval('[data-testid=deletion-plot] polyline', (p) => p.length)).toBe(2);
    expect(await text(page, 'deletion-auc')).toMatch(/Layer-CAM area [\d.e+-]+ · random area [\d.e+-]+ \(mean of 3\)/);
    await page.screenshot({ path: join(SHOTS, 'inside-cam.png'), fullPage: true });
    env.session.assertClean(origin);
  });
});
