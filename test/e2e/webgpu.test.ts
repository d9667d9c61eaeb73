/**
 * WebGPU through onnxruntime-web's JSEP build, on SwiftShader (Chromium's CPU Vulkan): the engine
 * picks WebGPU when an adapter exists, and its results for a fixed frame match the WASM backend's.
 * Driven through the e2e test page, which calls the engine worker directly.
 */
import { describe, expect, it } from 'vitest';
import { originOf, serveAndLaunch } from './harness';
import { MODEL_ID } from './paths';
import { ORT_BUILDS } from '../../workers/engine/runtime';

interface Run {
  device: string;
  top5: number[];
  heatmap: number[];
  dims: number[];
}

describe('the engine on WebGPU (SwiftShader)', () => {
  const env = serveAndLaunch(
    {},
    { args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'] },
  );

  it('picks WebGPU when an adapter exists, and agrees with WASM on a fixed frame', async () => {
    const page = await env.session.open(`${env.server.url}e2e.html`);
    await page.waitForFunction(() => document.body.dataset.e2eReady === 'true');
    const download = await page.evaluate(
      (id: string) => window.convlens.download({ id, baseUrl: `models/${id}/` }),
      MODEL_ID,
    );
    expect(download.ok).toBe(true);

    const run = (device: 'webgpu' | 'wasm') =>
      page.evaluate(
        async (dev: 'webgpu' | 'wasm', id: string): Promise<Run> => {
          const { engine } = window.convlens;
          const backend = await engine.init({ device: dev });
          await engine.loadModel(id);
          // A fixed 64×48 frame: diagonal colour ramps, opaque.
          const w = 64;
          const h = 48;
          const data = new Uint8ClampedArray(w * h * 4);
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const o = (y * w + x) * 4;
              data[o] = (x * 4) % 256;
              data[o + 1] = (y * 5) % 256;
              data[o + 2] = ((x + y) * 3) % 256;
              data[o + 3] = 255;
            }
          }
          const result = await engine.analyze({ width: w, height: h, data });
          return {
            device: backend.device,
            top5: result.top5.map((p) => p.index),
            heatmap: Array.from(result.heatmap.data),
            dims: result.heatmap.dims,
          };
        },
        device,
        MODEL_ID,
      );

    const gpu = await run('webgpu');
    const cpu = await run('wasm');
    expect(gpu.device).toBe('webgpu');
    expect(cpu.device).toBe('wasm');
    // WebGPU needs JSEP; the WASM run then uses JSEP's WASM backend (one build per worker).
    const runtime = env.session.workerRequests.filter((u) => u.includes('/ort/'));
    expect(runtime).toContain(`${env.server.url}ort/${ORT_BUILDS.jsep.wasm}`);
    expect(runtime).not.toContain(`${env.server.url}ort/${ORT_BUILDS.wasm.wasm}`);
    expect(gpu.top5[0]).toBe(cpu.top5[0]);
    expect(gpu.dims).toEqual(cpu.dims);
    // A real map (normalised to 0..1), not two empty ones agreeing.
    expect(Math.max(...cpu.heatmap)).toBeGreaterThan(0.5);
    const maxDiff = Math.max(...gpu.heatmap.map((v, i) => Math.abs(v - cpu.heatmap[i]!)));
    expect(maxDiff).toBeLessThan(1e-2);
    env.session.assertClean(originOf(env.server.url));
  });
});
