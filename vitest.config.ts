import { defineConfig } from 'vitest/config';

// Unit tests (Node). onnxruntime-web's WASM backend is CPU-heavy and the CI machine has 2 cores, so test
// files run one at a time (each in its own forked process); tests inside a file run sequentially anyway.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/unit/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
