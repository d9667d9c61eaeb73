/**
 * A small W3C WebDriver client over fetch, for WebKitGTK's `WebKitWebDriver` (puppeteer drives Chromium and
 * Firefox, not WebKit). It starts the driver on a free loopback port inside a virtual X display (`xvfb-run`:
 * WebKitGTK's MiniBrowser has no headless mode) and offers what the e2e core path needs: a session, navigate,
 * execute a script (its promise awaited), screenshot and delete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';

/** An error the driver answered with (W3C `{ value: { error, message } }`). */
export class WebDriverError extends Error {
  override name = 'WebDriverError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface WebDriverSession {
  navigate(url: string): Promise<void>;
  /** Runs `body` as a function body with `args` (W3C Execute Script: a returned promise is awaited). */
  execute<T>(body: string, args?: unknown[]): Promise<T>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  /** Deletes the session and stops the driver, its browser and the virtual display. */
  close(): Promise<void>;
}

export interface WebKitOptions {
  /** MiniBrowser options (its `--help-websettings` names), e.g. `--enable-mock-capture-devices=true`. */
  browserArgs?: string[];
  /** Milliseconds a script may run (default 120 s). */
  scriptTimeout?: number;
}

/** Starts WebKitWebDriver under Xvfb and opens a session of its MiniBrowser. */
export async function startWebKit(options: WebKitOptions = {}): Promise<WebDriverSession> {
  const port = await freePort();
  // Its own process group, so close() stops xvfb-run, Xvfb, the driver and the browser together.
  const child: ChildProcess = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1280x1024x24', WEBKIT_DRIVER, `--port=${port}`],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  const base = `http://127.0.0.1:${port}`;

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as { value: T & { error?: string; message?: string } };
    if (!res.ok || (json.value && typeof json.value === 'object' && 'error' in json.value && json.value.error))
      throw new WebDriverError(String(json.value?.error ?? res.status), String(json.value?.message ?? ''));
    return json.value;
  };

  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode}): ${stderr}`);
      try {
        if ((await call<{ ready: boolean }>('GET', '/status')).ready) break;
      } catch {
        if (i > 150) throw new Error(`WebKitWebDriver did not answer on port ${port} in 30 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const { sessionId } = await call<{ sessionId: string }>('POST', '/session', {
      capabilities: {
        alwaysMatch: { 'webkitgtk:browserOptions': { args: ['--automation', ...(options.browserArgs ?? [])] } },
      },
    });
    const s = `/session/${sessionId}`;
    await call('POST', `${s}/timeouts`, { script: options.scriptTimeout ?? 120_000, pageLoad: 120_000 });
    return {
      navigate: (url) => call('POST', `${s}/url`, { url }),
      execute: (body, args = []) => call('POST', `${s}/execute/sync`, { script: body, args }),
      screenshot: async () => Buffer.from(await call<string>('GET', `${s}/screenshot`), 'base64'),
      async close() {
        await call('DELETE', s).catch(() => undefined);
        stop();
      },
    };
  } catch (err) {
    stop();
    throw err;
  }
}
