/**
 * The README's screenshots (`npm run screenshots`): the app on the e2e build with the demo model and the
 * fake camera, at 412×915 portrait (Live, Train, Inside, Models) and 915×412 landscape (Live), written
 * as small JPEGs to docs/screenshots/. The e2e global setup builds what it needs first.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { clickDownload, launch, startServer, waitForPredictions } from './harness';
import { PHONE_VIEWPORTS, setViewport, type Viewport } from './layout';
import { ROOT } from './paths';
import setup from './setup';
import { addClassWithPhotos, openView, showActivations, train } from './tour';

const OUT = join(ROOT, 'docs/screenshots');
const QUALITY = 70;

const size = (name: string): Viewport => PHONE_VIEWPORTS.find((v) => v.name === name)!;

async function shoot(page: Page, name: string): Promise<void> {
  // Let the last state paint before the shot.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const path = join(OUT, `${name}.jpg`);
  await page.screenshot({ path, type: 'jpeg', quality: QUALITY });
  console.log(`screenshots: ${path}`);
}

async function main(): Promise<void> {
  await setup();
  await mkdir(OUT, { recursive: true });
  const server = await startServer();
  const session = await launch();
  try {
    const page = await session.open(server.url);
    await setViewport(page, size('412x915'));
    await clickDownload(page);
    await waitForPredictions(page);
    await shoot(page, 'live');

    await openView(page, 'train');
    await addClassWithPhotos(page, 'cat', 3);
    await addClassWithPhotos(page, 'cup', 3);
    await train(page);
    await page.$eval('[data-testid=train-screen]', (e) => e.scrollIntoView());
    await shoot(page, 'train');

    await openView(page, 'inside');
    await page.waitForSelector('[data-testid=explorer-layer] option', { timeout: 60_000 });
    await page.select('[data-testid=explorer-layer]', 'block1_conv2');
    await showActivations(page);
    await page.$eval('[data-testid=explorer]', (e) => e.scrollIntoView());
    await shoot(page, 'inside');

    await openView(page, 'models');
    await shoot(page, 'models');

    await openView(page, 'live');
    await page.select('[data-testid=classifier-switch]', '');
    await setViewport(page, size('915x412'));
    await waitForPredictions(page);
    await page.$eval('[data-testid=live-video]', (e) => e.scrollIntoView());
    await shoot(page, 'live-landscape');
  } finally {
    await session.close();
    await server.close();
  }
}

await main();
