/**
 * The app on phones (issue 19): at 360×640 and 412×915 portrait and 640×360 and 915×412 landscape, every
 * screen and every panel that opens fits the screen — no sideways scroll (`scrollWidth <= innerWidth`,
 * and no zooming out to fit), nothing sticking out past an edge, every visible button, input, select
 * and tab at least 44 × 44 CSS px (inline text links excepted) — and on Live the camera spans the
 * page's width (see `cameraProblems` for the rule). Content is made long on purpose: a class name of
 * one long word, the classifier named after it, the saved-overlay link.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickDownload,
  launch,
  respondWith,
  startServer,
  waitForError,
  waitForPredictions,
  type Session,
  type TestServer,
} from './harness';
import {
  cameraFit,
  cameraProblems,
  layoutProblems,
  measureLayout,
  PHONE_VIEWPORTS,
  setViewport,
  type Viewport,
} from './layout';
import { BASE, DIST } from './paths';
import { addClassWithPhotos, LONG_CLASS, openView, showActivations, showCam, showFilters, train } from './tour';

/**
 * Shows `what` at every phone size (`show` brings the screen into the state to check, after the
 * resize; every <details> on it is opened) and returns every layout problem found, each prefixed with
 * the size and `what`.
 */
async function atEverySize(
  page: Page,
  what: string,
  show: (v: Viewport) => Promise<void> = async () => undefined,
  extra: (v: Viewport) => Promise<string[]> = async () => [],
): Promise<string[]> {
  const problems: string[] = [];
  for (const v of PHONE_VIEWPORTS) {
    await setViewport(page, v);
    await show(v);
    await page.$$eval('details:not([open])', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const found = [...layoutProblems(await measureLayout(page), v), ...(await extra(v))];
    problems.push(...found.map((p) => `${v.name} ${what}: ${p}`));
  }
  return problems;
}

describe('the app on a phone', () => {
  let server: TestServer;
  let session: Session;
  let page: Page;

  beforeAll(async () => {
    server = await startServer();
    session = await launch();
    page = await session.open(server.url);
    await setViewport(page, PHONE_VIEWPORTS[0]!); // a phone from the start (switching to mobile reloads)
    await page.waitForSelector('[data-testid=download-demo]', { timeout: 90_000 });
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  it('the first screen, before any model is stored, fits', async () => {
    await page.waitForSelector('[data-testid=model-list-empty]', { timeout: 30_000 });
    expect(await atEverySize(page, 'Models (no model yet)')).toEqual([]);
  });

  it('Live fits, with the camera across the width, the top 5 and the saved-overlay link', async () => {
    await clickDownload(page);
    await waitForPredictions(page);
    await page.click('[data-testid=save-png]');
    await page.waitForSelector('[data-testid=save-link]', { timeout: 30_000 });
    const problems = await atEverySize(
      page,
      'Live',
      () => waitForPredictions(page).then(() => undefined),
      async (v) => cameraProblems(await cameraFit(page), v),
    );
    expect(problems).toEqual([]);
  });

  it('Train fits: classes, photos, a run with its curves and result, my classifiers, a delete confirmation', async () => {
    await openView(page, 'train');
    await addClassWithPhotos(page, 'alpha', 3);
    await addClassWithPhotos(page, LONG_CLASS, 3);
    await train(page);
    const problems = await atEverySize(page, 'Train with a result');
    await page.click('[data-testid=class-remove-alpha]');
    await page.waitForSelector('[data-testid=class-remove-alpha].danger');
    problems.push(...(await atEverySize(page, 'Train, deleting a class')));
    await page.click('.class-list li .ghost:not([data-testid])'); // Keep
    expect(problems).toEqual([]);
  });

  it('Live fits with my classifier in use (its long name in the switch and the top list)', async () => {
    await openView(page, 'live');
    await page.waitForFunction(
      (name: string) => document.querySelector('[data-testid=top5]')?.textContent?.includes(name),
      { timeout: 60_000 },
      LONG_CLASS,
    );
    expect(await atEverySize(page, 'Live with my classifier')).toEqual([]);
  });

  it('Inside fits: activations with a map enlarged, the filter gallery, CAM with its deletion curve', async () => {
    await openView(page, 'inside');
    const problems = [
      ...(await atEverySize(page, 'Inside: activations', () => showActivations(page))),
      ...(await atEverySize(page, 'Inside: filters', () => showFilters(page))),
      ...(await atEverySize(page, 'Inside: CAM', () => showCam(page))),
    ];
    expect(problems).toEqual([]);
  });

  it('Models fits: the stored model, its delete confirmation, and an error banner', async () => {
    await openView(page, 'models');
    await page.click('[data-testid=model-list] [aria-label^="Delete "]');
    await page.waitForSelector('[data-testid=model-list] .danger');
    const problems = await atEverySize(page, 'Models, deleting a model');
    await page.click('[data-testid=model-list] .ghost'); // Keep
    const junk = join(tmpdir(), 'convlens-phone-not-weights.h5');
    await writeFile(junk, 'these bytes are not an HDF5 file, whatever the name says');
    const input = await page.$('[data-testid=import-input]');
    await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(junk);
    await waitForError(page);
    problems.push(...(await atEverySize(page, 'Models with an error')));
    // A SHA-256 that is not one: nothing downloads, the field says why and has the focus.
    await page.type('[data-testid=import-url]', 'https://example.org/vgg16.onnx');
    await page.type('[data-testid=import-sha256]', 'not-a-checksum');
    await page.click('[data-testid=import-url-go]');
    await page.waitForSelector('[data-testid=import-sha256][aria-invalid=true]:focus', { timeout: 10_000 });
    const problem = await page.$eval('[data-testid=import-sha256-problem]', (p) => p.textContent);
    expect(problem).toMatch(/64 hexadecimal digits/);
    expect(await page.$('[data-testid=import-url-progress]')).toBeNull();
    problems.push(...(await atEverySize(page, 'Models with a SHA-256 problem')));
    // The ImageNet source's SHA-256 is a setting: saved lower-case, shown (64 digits wrap) until reset.
    const sha = 'AB'.repeat(32);
    await page.type('[data-testid=weights-sha256]', sha);
    await page.click('.weights-source button[type=submit]');
    await page.waitForFunction((s) => localStorage.getItem('convlens:weights-sha256') === s, {}, sha.toLowerCase());
    problems.push(...(await atEverySize(page, 'Models with a SHA-256 setting')));
    await page.click('.weights-source button[type=button]'); // Use the published source
    await page.waitForFunction(() => localStorage.getItem('convlens:weights-sha256') === '');
    expect(problems).toEqual([]);
  });

  it('the update prompt and a camera error fit', async () => {
    // A new version waits for the user: "deploy" a service worker with different bytes.
    const sw = `${await readFile(join(DIST, 'sw.js'), 'utf8')}\n// next version\n`;
    server.fault = respondWith(`${BASE}sw.js`, sw, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    await page.waitForSelector('[data-testid=update-prompt]', { timeout: 60_000 });
    const problems = await atEverySize(page, 'Models with the update prompt');
    server.fault = undefined;

    const denied = await session.open('about:blank');
    await setViewport(denied, PHONE_VIEWPORTS[0]!);
    await denied.evaluateOnNewDocument(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('stubbed', 'NotAllowedError'));
    });
    await denied.goto(server.url, { waitUntil: 'load' });
    await denied.waitForSelector('[data-testid=camera-error]', { timeout: 90_000 });
    problems.push(...(await atEverySize(denied, 'Live with a camera error')));
    await denied.close();
    expect(problems).toEqual([]);
  });
});
