/**
 * One small driver interface over the browser engines beside Chromium, so the core path (core-path.ts) runs
 * the same steps in each: Firefox ESR through puppeteer-core over WebDriver BiDi, WebKitGTK through the
 * W3C WebDriver client (webdriver.ts). Everything in the page runs as a plain function sent as source.
 */
import { writeFile } from 'node:fs/promises';
import puppeteer from 'puppeteer-core';
import { startWebKit } from './webdriver';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export interface EngineDriver {
  /** The engine's name in test titles and messages. */
  readonly name: string;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /** Runs `fn` in the page with JSON-able `args` and answers its (awaited) result. */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): Promise<Awaited<T>>;
  screenshot(path: string): Promise<void>;
  /** Uncaught page errors seen so far (where the engine reports them), for diagnostics. */
  readonly errors: string[];
  close(): Promise<void>;
}

/** `fn` as an expression applied to `args`; `__name` is the helper tsx/esbuild wrap named functions in. */
const source = (fn: (...a: never[]) => unknown, args: unknown[]) =>
  `((__name) => (${fn.toString()}))((f) => f)(...${JSON.stringify(args)})`;

/** Firefox ESR, headless, with a fake camera (a generated moving picture) that needs no permission prompt. */
export async function launchFirefox(): Promise<EngineDriver> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
    },
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
  return {
    name: 'Firefox',
    errors,
    goto: async (url) => void (await page.goto(url, { waitUntil: 'load' })),
    reload: async () => void (await page.reload({ waitUntil: 'load' })),
    run: (fn, ...args) => page.evaluate(source(fn, args)) as never,
    screenshot: async (path) => void (await page.screenshot({ path })),
    close: () => browser.close().catch(() => undefined),
  };
}

/** WebKitGTK's MiniBrowser with its mock camera (WebKit's own test capture device) and media streams on. */
export async function launchWebKit(): Promise<EngineDriver> {
  const session = await startWebKit({
    browserArgs: ['--enable-media-stream=true', '--enable-mock-capture-devices=true'],
  });
  return {
    name: 'WebKit',
    errors: [],
    goto: (url) => session.navigate(url),
    // WebDriver's refresh waits for the load with no word on what it waits for; a reload started from
    // the page and polled for the new document lets a slow load end in the core path's diagnostics.
    async reload() {
      await session.execute('window.__e2eOldDocument = true; setTimeout(() => location.reload(), 0); return true;');
      const end = Date.now() + 120_000;
      for (;;) {
        const fresh = await session
          .execute<boolean>('return !window.__e2eOldDocument && document.readyState === "complete";')
          .catch(() => false);
        if (fresh) return;
        if (Date.now() > end) throw new Error('WebKit: the reloaded page did not finish loading in 120 s');
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    run: (fn, ...args) => session.execute(`return ${source(fn, args)};`),
    screenshot: async (path) => writeFile(path, await session.screenshot()),
    close: () => session.close(),
  };
}
