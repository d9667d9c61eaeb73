/**
 * Steps through the app's screens the way a person does, shared by the phone-layout test and the
 * README screenshots: a classifier trained on camera photos, the Inside tabs with their results.
 */
import type { Page } from 'puppeteer-core';

/** A class name that is one long word: it must wrap, never widen the page. */
export const LONG_CLASS = 'a-class-with-a-long-name-that-has-no-spaces';

/** Opens one of the header's views and waits for its screen. */
export async function openView(page: Page, view: 'live' | 'train' | 'inside' | 'models'): Promise<void> {
  await page.click(`[data-testid=view-${view}]`);
  const screen = { live: 'top5', train: 'train-screen', inside: 'insight-screen', models: 'model-list' }[view];
  await page.waitForSelector(`[data-testid=${screen}]`, { timeout: 30_000 });
}

/** On Train: adds a class and photographs `photos` frames of the fake camera for it. */
export async function addClassWithPhotos(page: Page, name: string, photos: number): Promise<void> {
  await page.type('[data-testid=class-name]', name);
  await page.click('[data-testid=class-add]');
  await page.waitForSelector(`[data-testid="class-${name}"][aria-pressed=true]`, { timeout: 10_000 });
  for (let i = 1; i <= photos; i++) {
    await page.waitForSelector('[data-testid=capture]:not([disabled])', { timeout: 30_000 });
    await page.click('[data-testid=capture]');
    await page.waitForFunction((n: number) => document.querySelectorAll('[data-testid=thumb]').length >= n, {}, i);
  }
}

/** On Train: trains on the photos taken and waits for the result. */
export async function train(page: Page): Promise<void> {
  await page.click('[data-testid=train]');
  await page.waitForSelector('[data-testid=train-result]', { timeout: 120_000 });
}

/** On Inside: the activation explorer with its first map enlarged. */
export async function showActivations(page: Page): Promise<void> {
  await page.click('[data-testid=insight-tab-explorer]');
  await page.waitForSelector('[data-testid=explorer-tile]', { timeout: 60_000 });
  if (!(await page.$('[data-testid=explorer-enlarged]'))) await page.click('[data-testid=explorer-tile]');
  await page.waitForSelector('[data-testid=explorer-enlarged] canvas');
}

/** On Inside: the filter gallery with a few computed pictures (block1_conv2, short ascent). */
export async function showFilters(page: Page): Promise<void> {
  await page.click('[data-testid=insight-tab-filters]');
  await page.waitForSelector('[data-testid=gallery-layer] option');
  if (await page.$('[data-testid=filter-tile]')) return;
  await page.select('[data-testid=gallery-layer]', 'block1_conv2');
  for (const [id, value] of [
    ['count', 4],
    ['steps', 8],
  ] as const)
    await page.$eval(
      `[data-testid=gallery-${id}]`,
      (el, v) => {
        const input = el as HTMLInputElement;
        input.value = String(v);
        input.dispatchEvent(new Event('change', { bubbles: true }));
      },
      value,
    );
  await page.click('[data-testid=gallery-show]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=filter-tile]').length === 4, {
    timeout: 120_000,
  });
}

/** On Inside: a Grad-CAM of the current frame and its deletion curve. */
export async function showCam(page: Page): Promise<void> {
  await page.click('[data-testid=insight-tab-cam]');
  await page.waitForSelector('[data-testid=cam-canvas][data-cam]', { timeout: 60_000 });
  if (await page.$('[data-testid=deletion-plot]')) return;
  await page.waitForSelector('[data-testid=cam-faithfulness]:not([disabled])', { timeout: 60_000 });
  await page.click('[data-testid=cam-faithfulness]');
  await page.waitForSelector('[data-testid=deletion-plot]', { timeout: 120_000 });
}
