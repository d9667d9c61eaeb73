/**
 * The training screen in Chromium on the fake camera (issue 4): two classes photographed from the live
 * camera, a training run with its progress, curves and report, the live view switched to the new
 * classifier (its class names in the top list, a heatmap over the video), then a reload in the middle
 * of a second run: photos, cached features and the last good classifier survive, and the run resumes
 * from its checkpoint without extracting anything again. Then an export → import round trip, and a
 * retrain after one more photo that continues from the classifier in use.
 * The model is the e2e TINY_VGG demo bundle (32-pixel input), so every run takes seconds.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickDownload, heatmapColours, originOf, serveAndLaunch, waitForPredictions } from './harness';

const SHOTS = '.e2e/screenshots';
const CLASSES = ['alpha', 'beta'];
const PHOTOS_PER_CLASS = 3;

const text = (page: Page, testId: string) =>
  page.$eval(`[data-testid=${testId}]`, (e) => e.textContent ?? '').catch(() => '');

async function view(page: Page, name: 'live' | 'train') {
  await page.click(`[data-testid=view-${name}]`);
  if (name === 'train') await page.waitForSelector('[data-testid=train-screen]', { timeout: 30_000 });
}

async function setNumber(page: Page, testId: string, value: number) {
  const input = (await page.$(`[data-testid=${testId}]`))!;
  await input.click({ count: 3 });
  await input.type(String(value));
  await input.press('Tab'); // change fires on blur
  // The input is controlled by the reducer: its value after the re-render is the setting in force.
  await page.waitForFunction(
    (id, v) => document.querySelector<HTMLInputElement>(`[data-testid=${id}]`)?.value === v,
    { timeout: 5_000 },
    testId,
    String(value),
  );
}

/** Waits until a run finished and its classifier was stored: `classifiers` of them listed. */
async function runDone(page: Page, classifiers: number) {
  await page.waitForFunction(
    (n: number) =>
      document.querySelectorAll('[data-testid=classifier]').length === n &&
      /Training finished/.test(document.querySelector('[data-testid=train-status]')?.textContent ?? ''),
    { timeout: 60_000 },
    classifiers,
  );
}

/** Sets a checkbox setting to `on` (clicking it only if it is not already). */
async function setChecked(page: Page, testId: string, on: boolean) {
  const sel = `[data-testid=${testId}]`;
  if ((await page.$eval(sel, (e) => (e as HTMLInputElement).checked)) !== on) await page.click(sel);
  await page.waitForFunction((q, v) => document.querySelector<HTMLInputElement>(q)?.checked === v, {}, sel, on);
}

/** Feature arrays in the worker's cache database. */
function featureCount(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('convlens-features');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const count = db.transaction('features').objectStore('features').count();
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
  );
}

/** Waits until the live top list shows only the given class names (the custom head is in use). */
async function waitForCustomTop(page: Page, classes: string[]): Promise<string> {
  await page.waitForFunction(
    (names: string[]) => {
      const el = document.querySelector('[data-testid=top5]');
      const t = el?.textContent ?? '';
      return /\d\s?%/.test(t) && names.every((n) => t.includes(n));
    },
    { timeout: 60_000, polling: 250 },
    classes,
  );
  return text(page, 'top5');
}

describe('training a classifier in the browser', () => {
  const env = serveAndLaunch();
  let page: Page;
  let downloads: string;
  const t0 = Date.now();

  beforeAll(async () => {
    downloads = await mkdtemp(join(tmpdir(), 'convlens-dl-'));
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    console.log(`train e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await rm(downloads, { recursive: true, force: true });
  });

  it('captures photos for two classes from the camera and keeps them in IndexedDB', async () => {
    page = await env.session.open(env.server.url);
    await clickDownload(page);
    await waitForPredictions(page);
    await view(page, 'train');
    for (const [k, name] of CLASSES.entries()) {
      await page.type('[data-testid=class-name]', name);
      await page.click('[data-testid=class-add]');
      await page.waitForSelector(`[data-testid=class-${name}][aria-pressed=true]`, { timeout: 10_000 });
      for (let i = 1; i <= PHOTOS_PER_CLASS; i++) {
        await page.waitForSelector('[data-testid=capture]:not([disabled])', { timeout: 30_000 });
        await page.click('[data-testid=capture]');
        await page.waitForFunction((n: number) => document.querySelectorAll('[data-testid=thumb]').length === n, {}, i);
        await new Promise((r) => setTimeout(r, 300 + 400 * k)); // let the fake camera move on
      }
    }
    expect(await text(page, 'class-alpha')).toContain(`${PHOTOS_PER_CLASS} photos`);
    expect(await text(page, 'class-beta')).toContain(`${PHOTOS_PER_CLASS} photos`);
    // The thumbnails are real pictures decoded from the stored bytes.
    const sizes = await page.$$eval('[data-testid=thumb] img', (imgs) =>
      imgs.map((i) => (i as HTMLImageElement).naturalWidth),
    );
    expect(sizes.every((w) => w > 0)).toBe(true);
  });

  it('trains with phase progress and curves, and reports accuracy, confusion and misclassified photos', async () => {
    await setNumber(page, 'setting-variants', 2);
    await setNumber(page, 'setting-epochs', 12);
    await page.click('[data-testid=setting-finetune]');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=train-result]', { timeout: 90_000 });
    const status = await text(page, 'train-status');
    expect(status).toMatch(/Training finished/);
    // A first run finds nothing cached.
    expect(status).toMatch(/\b0 of \d+ features cached/);
    const bars = await page.$$eval('[data-testid=train-progress] progress', (ps) =>
      ps.map((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]),
    );
    // extract, head, fine-tuning: each ran to its end.
    expect(bars).toHaveLength(3);
    for (const [value, max] of bars) expect(value).toBe(max);
    expect(await text(page, 'result-summary')).toMatch(
      /Accuracy \d+ % on held-out validation photos, (head only|with block5 fine-tuned)/,
    );
    // The loss curve has one finite point per epoch the chart's summary reports, and a run of 12 epochs has several.
    const chart = await page.$eval('[data-testid=chart-loss]', (f) => ({
      points: f.querySelector('polyline.line-train')?.getAttribute('points') ?? '',
      label: f.querySelector('svg')?.getAttribute('aria-label') ?? '',
    }));
    const epochs = Number(/after epoch (\d+)/.exec(chart.label)?.[1]);
    expect(epochs).toBeGreaterThanOrEqual(2);
    const points = chart.points.split(' ').map((xy) => xy.split(',').map(Number));
    expect(points).toHaveLength(epochs);
    for (const xy of points) expect(xy.every(Number.isFinite) && xy.length === 2).toBe(true);
    const cells = await page.$$eval('[data-testid=confusion] td', (tds) => tds.map((td) => Number(td.textContent)));
    expect(cells).toHaveLength(4);
    expect(cells.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2); // ≥ 1 held-out photo per class
    expect(await text(page, 'per-class')).toMatch(/alpha.*%.*beta.*%/s);
    expect(await page.$$('[data-testid=classifier]')).toHaveLength(1);
    await page.screenshot({ path: join(SHOTS, 'train-result.png'), fullPage: true });
  });

  it('shows my classes and a heatmap in the live view, and switches back to ImageNet', async () => {
    await view(page, 'live');
    const top = await waitForCustomTop(page, CLASSES);
    expect(top).toMatch(/alpha|beta/);
    expect(await heatmapColours(page)).toBeGreaterThan(20);
    expect(await page.$eval('[data-testid=classifier-switch]', (s) => (s as HTMLSelectElement).value)).not.toBe('');
    await page.screenshot({ path: join(SHOTS, 'train-live.png') });
    await page.select('[data-testid=classifier-switch]', '');
    await page.waitForFunction(
      () => !/alpha|beta/.test(document.querySelector('[data-testid=top5]')?.textContent ?? 'alpha'),
      { timeout: 30_000, polling: 250 },
    );
    const id = await page.$eval(
      '[data-testid=classifier-switch] option:nth-child(2)',
      (o) => (o as HTMLOptionElement).value,
    );
    await page.select('[data-testid=classifier-switch]', id);
    await waitForCustomTop(page, CLASSES);
  });

  it('survives a reload in the middle of training: photos, features and classifier kept, and resumes', async () => {
    await view(page, 'train');
    // Long enough to be caught in the middle of the head: early stopping off (patience = epochs), and a
    // fresh start (a run that continues from the classifier in use stops at the first epoch without a gain).
    await setNumber(page, 'setting-epochs', 200);
    await setNumber(page, 'setting-patience', 200);
    await setChecked(page, 'setting-continue', false);
    await page.click('[data-testid=train]');
    // Both in one check: the previous run's chart stays on screen until this run has started.
    await page.waitForFunction(
      () =>
        /Training…/.test(document.querySelector('[data-testid=train-status]')?.textContent ?? '') &&
        /after epoch ([3-9]|\d\d)/.test(
          document.querySelector('[data-testid=chart-loss] svg')?.getAttribute('aria-label') ?? '',
        ),
      { timeout: 60_000, polling: 'mutation' },
    );
    await page.reload({ waitUntil: 'load' });

    // After the reload the app loads the model, goes live and applies the kept classifier again.
    await waitForCustomTop(page, CLASSES);
    await view(page, 'train');
    await page.waitForSelector('[data-testid=resume]', { timeout: 30_000 });
    expect(await page.$$('[data-testid=thumb]')).toHaveLength(PHOTOS_PER_CLASS);
    expect(await text(page, 'class-alpha')).toContain(`${PHOTOS_PER_CLASS} photos`);
    expect(await text(page, 'class-beta')).toContain(`${PHOTOS_PER_CLASS} photos`);
    expect(await page.$$('[data-testid=classifier]')).toHaveLength(1);

    await page.click('[data-testid=resume]');
    await page.waitForSelector('[data-testid=train-result]', { timeout: 120_000 });
    const status = await text(page, 'train-status');
    const [, cached, total] = /(\d+) of (\d+) features cached/.exec(status) ?? [];
    expect(Number(total)).toBeGreaterThan(0);
    expect(cached).toBe(total); // nothing extracted again
    // The resumed run went on from its checkpoint: its curve starts before this page existed.
    const epochs = await page.$eval('[data-testid=chart-loss] svg', (s) => s.getAttribute('aria-label') ?? '');
    expect(Number(/after epoch (\d+)/.exec(epochs)?.[1])).toBeGreaterThanOrEqual(200);
    expect(await page.$$('[data-testid=classifier]')).toHaveLength(2);
    expect(await page.$('[data-testid=resume]')).toBeNull();
    await page.screenshot({ path: join(SHOTS, 'train-resumed.png'), fullPage: true });
  });

  it('exports a classifier to a file and imports it back', async () => {
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.click('[data-testid=classifier-export]');
    let file: string | undefined;
    for (let i = 0; i < 100 && !file; i++) {
      await new Promise((r) => setTimeout(r, 100));
      file = (await readdir(downloads)).find((f) => f.endsWith('.classifier'));
    }
    expect(file).toBeDefined();
    expect((await stat(join(downloads, file!))).size).toBeGreaterThan(100);
    const input = await page.$('[data-testid=classifier-import]');
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(join(downloads, file!));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=classifier]').length === 3, {
      timeout: 30_000,
    });
    expect(await text(page, 'classifier-list')).toContain('(in use)');
    await view(page, 'live');
    await waitForCustomTop(page, CLASSES);
    // Deleting a photo drops it, and in the worker its cached features, for good.
    await view(page, 'train');
    const before = await featureCount(page);
    expect(before).toBeGreaterThan(0);
    await page.click('[data-testid=thumb] button');
    await page.waitForFunction(
      (n: number) => document.querySelectorAll('[data-testid=thumb]').length === n,
      { timeout: 10_000 },
      PHOTOS_PER_CLASS - 1,
    );
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await featureCount(page);
    }
    expect(after).toBeLessThan(before);
    expect(after).toBeGreaterThan(0);
    env.session.assertClean(originOf(env.server.url));
    expect(env.session.errors.filter((e) => !/favicon/.test(e))).toEqual([]);
  });
  it('retrains from the classifier in use after one more photo: only its features, a few epochs', async () => {
    await view(page, 'train');
    await setChecked(page, 'setting-finetune', false);
    await setNumber(page, 'setting-epochs', 30);
    await setNumber(page, 'setting-patience', 5);
    await setChecked(page, 'setting-continue', false);
    // A head-only classifier to continue from, put in use.
    const count = (await page.$$('[data-testid=classifier]')).length;
    await page.click('[data-testid=train]');
    await runDone(page, count + 1);
    const last = `[data-testid=classifier]:nth-child(${count + 1})`;
    expect(await text(page, 'train-status')).not.toMatch(/Continuing/);
    const use = await page.$(`${last} [data-testid=classifier-use]:not([disabled])`);
    if (use) await use.click();
    await page.waitForFunction(
      (q: string) => /\(in use\)/.test(document.querySelector(q)?.textContent ?? ''),
      {},
      last,
    );

    await setChecked(page, 'setting-continue', true);
    const photos = (await page.$$('[data-testid=thumb]')).length;
    // A picked file (after the reload above the camera runs only in the live view).
    const pick = await page.$('[data-testid=photo-files]');
    await (pick as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(
      'test/fixtures/photos/grass/grass_r0c0.png',
    );
    await page.waitForFunction(
      (n: number) => document.querySelectorAll('[data-testid=thumb]').length === n,
      {},
      photos + 1,
    );
    await page.click('[data-testid=train]');
    await runDone(page, count + 2);
    const status = await text(page, 'train-status');
    expect(status).toMatch(/Continuing from “alpha · beta”/);
    // Only the new photo's features were computed: 2 variants, or 1 if it was held out for validation.
    const [, cached, total] = (/(\d+) of (\d+) features cached/.exec(status) ?? []).map(Number);
    expect(total! - cached!).toBeGreaterThanOrEqual(1);
    expect(total! - cached!).toBeLessThanOrEqual(2);
    env.session.assertClean(originOf(env.server.url));
  });
});
