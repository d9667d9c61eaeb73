/**
 * Two tabs and a storage schema upgrade (idb #148): an open tab must not block
 * another tab's newer schema. Driven through the e2e test page (e2e.html), which talks to the engine
 * worker directly and records the messages the worker posts outside Comlink.
 */
import { describe, expect, it } from 'vitest';
import { originOf, serveAndLaunch } from './harness';
import { MODEL_ID } from './paths';

describe('a storage upgrade from another tab', () => {
  const env = serveAndLaunch();

  it('is not blocked by an open tab: that tab closes its connection, says to reload, and stops using storage', async () => {
    const old = await env.session.open(`${env.server.url}e2e.html`);
    await old.waitForFunction(() => document.body.dataset.e2eReady === 'true');
    const download = await old.evaluate(
      (id: string) => window.convlens.download({ id, baseUrl: `models/${id}/` }),
      MODEL_ID,
    );
    expect(download.ok).toBe(true);
    expect(download.value?.ready).toBe(true);

    // A newer version of the app in another tab upgrades the schema.
    const newer = await env.session.open(`${env.server.url}e2e.html`);
    const upgraded = await newer.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const req = indexedDB.open('convlens', 3); // one past the library's DB_VERSION
          req.onupgradeneeded = () => req.result.createObjectStore('photos');
          req.onsuccess = () => {
            req.result.close();
            resolve('upgraded');
          };
          req.onblocked = () => resolve('blocked');
          req.onerror = () => resolve(`error: ${req.error?.name}`);
        }),
    );
    expect(upgraded).toBe('upgraded');

    await old.waitForFunction(() => window.convlens.workerEvents.length > 0);
    const events = await old.evaluate(() => window.convlens.workerEvents);
    expect(events).toEqual([{ type: 'convlens:db', event: 'blocking', message: expect.stringMatching(/reload/) }]);
    const after = await old.evaluate(() => window.convlens.call('listModels'));
    expect(after.error?.name).toBe('StorageBlockedError');
    env.session.assertClean(originOf(env.server.url));
  });
});
