import { defineConfig } from 'vitest/config';

// Browser end-to-end tests (puppeteer-core driving Chromium against the built app): one file at a time,
// with long timeouts for the production build and model loading. The global setup builds the app with
// its test page (`--env e2e`, into .e2e/dist, skipped when up to date), the model bundle and the camera video.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
