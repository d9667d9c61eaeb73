/**
 * The PWA build: the Preact UI (src/app/main.tsx), the engine worker it starts with
 * `new Worker(new URL('../../workers/engine/index.ts', import.meta.url))`, the service worker
 * (workers/sw.ts, Workbox InjectManifest) and onnxruntime-web's WASM runtime, self-hosted under ort/.
 *
 *   npm run build                      → dist/
 *   … --env e2e                        → .e2e/dist/, plus e2e.html: a test page that drives the engine
 *                                        worker directly (test/e2e/page/hook.ts); never in dist/.
 *
 * Every emitted URL is relative (publicPath 'auto', manifest scope './'), so the app works from a
 * sub-path such as https://host/some/dir/.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyPlugin from 'copy-webpack-plugin';
import HtmlWebpackPlugin from 'html-webpack-plugin';
import webpack from 'webpack';
import type { Configuration, Compiler, WebpackPluginInstance } from 'webpack';
import { InjectManifest } from 'workbox-webpack-plugin';
import { ORT_BUILDS } from './workers/engine/runtime';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The files onnxruntime-web fetches at run time, for both builds the worker may load
 * (workers/engine/ort.ts: `onnxruntime-web/wasm`, ort.wasm.min.mjs, on WASM; JSEP, ort.min.mjs, on
 * WebGPU; both chosen below with the package's `onnxruntime-web-use-extern-wasm` condition). Each
 * imports its Emscripten module from `env.wasm.wasmPaths`; that module spawns its pthread workers
 * from its own URL, and the worker hands over the .wasm bytes: all stay same-origin under ort/.
 */
export const ORT_RUNTIME_FILES = Object.values(ORT_BUILDS).flatMap((b) => [b.module, b.wasm]);
export const ORT_DIR = 'ort';

/** Big enough for the ~28 MB JSEP wasm (the largest file); models are never in the build, so nothing larger belongs here. */
const MAX_PRECACHE_BYTES = 48 * 1024 * 1024;

/** Workbox reports files it leaves out of the precache as warnings (workbox #2790); offline then breaks silently. */
export const PRECACHE_WARNING = /(will not|won't) be precached/i;

/** Turns Workbox's "won't be precached" warnings into build errors, so a too-big shell fails the build. */
export class FailOnPrecacheWarnings implements WebpackPluginInstance {
  apply(compiler: Compiler): void {
    compiler.hooks.thisCompilation.tap(FailOnPrecacheWarnings.name, (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: FailOnPrecacheWarnings.name, stage: webpack.Compilation.PROCESS_ASSETS_STAGE_REPORT },
        () => {
          const bad = compilation.warnings.filter((w) => PRECACHE_WARNING.test(w.message));
          for (const w of bad) {
            compilation.errors.push(
              new webpack.WebpackError(`precache incomplete (the app would not work offline): ${w.message}`),
            );
          }
          compilation.warnings = compilation.warnings.filter((w) => !PRECACHE_WARNING.test(w.message));
        },
      );
    });
  }
}

/** A runtime file through the package's own exports map (`onnxruntime-web/ort-wasm-…`). */
const ortFile = (name: string): string => require.resolve(`onnxruntime-web/${name}`);

interface Env {
  e2e?: boolean | string;
}

export default (env: Env = {}, argv: { mode?: Configuration['mode'] } = {}): Configuration => {
  const mode = argv.mode ?? 'production';
  const e2e = Boolean(env.e2e);
  const appEntry = join(root, 'src/app/main.tsx');
  const hasApp = existsSync(appEntry);
  if (!hasApp && !e2e) {
    throw new Error('src/app/main.tsx does not exist yet: the UI entry is needed for a production build');
  }
  const entry: Record<string, string> = {};
  if (hasApp) entry.main = appEntry;
  if (e2e) entry.e2e = join(root, 'test/e2e/page/hook.ts');

  const pages = Object.keys(entry).map(
    (name) =>
      new HtmlWebpackPlugin({
        template: join(root, 'static/index.html'),
        // Without the UI yet, the e2e hook page stands in as index.html so install/offline tests still run.
        filename: name === 'main' || !hasApp ? 'index.html' : `${name}.html`,
        chunks: [name],
        inject: 'head',
        scriptLoading: 'defer',
        minify: mode === 'production' ? { collapseWhitespace: true, removeComments: true } : false,
      }),
  );

  return {
    mode,
    context: root,
    entry,
    target: 'web',
    // Never an eval-based devtool: the page's CSP has no 'unsafe-eval', in development either.
    devtool: mode === 'production' ? 'source-map' : 'cheap-module-source-map',
    output: {
      path: resolve(root, e2e ? '.e2e/dist' : 'dist'),
      filename: '[name].[contenthash:8].js',
      chunkFilename: '[name].[contenthash:8].js',
      assetModuleFilename: 'assets/[name].[contenthash:8][ext]',
      cssFilename: '[name].[contenthash:8].css',
      publicPath: 'auto',
      clean: true,
    },
    experiments: { css: true },
    resolve: {
      extensions: ['.ts', '.tsx', '.mjs', '.js'],
      // onnxruntime-web's own condition for "runtime files are hosted separately": gives ort.min.mjs,
      // which imports the Emscripten module from env.wasm.wasmPaths, instead of ort.bundle.min.mjs,
      // which inlines it and spawns its threads from the bundle's (webpack-rewritten) import.meta.url.
      conditionNames: ['onnxruntime-web-use-extern-wasm', '...'],
      // The worker loads the build its device needs (workers/engine/ort.ts says why): every import of
      // the package's name gets that module; it imports the builds by their own names.
      alias: {
        'onnxruntime-web$': join(root, 'workers/engine/ort.ts'),
        'onnxruntime-web-jsep$': join(dirname(ortFile(ORT_BUILDS.jsep.module)), 'ort.min.mjs'),
      },
    },
    module: {
      rules: [
        {
          // ort.min.mjs finds its own URL with `new URL('ort.min.mjs', import.meta.url)`, which webpack
          // would emit as a second, 355 kB copy of the library; that URL only matters when wasmPaths is
          // unset, and the worker always sets it.
          test: /[\\/]onnxruntime-web[\\/]dist[\\/]/,
          parser: { url: false },
        },
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'ts-loader',
            options: {
              transpileOnly: true,
              configFile: join(root, 'tsconfig.app.json'),
              compilerOptions: { noEmit: false, sourceMap: true },
            },
          },
        },
      ],
    },
    plugins: [
      ...pages,
      new CopyPlugin({
        patterns: [
          { from: 'manifest.webmanifest', to: 'manifest.webmanifest' },
          { from: 'static/icons', to: 'icons' },
          // Already minified upstream: `minimized` keeps the minifier off them.
          ...ORT_RUNTIME_FILES.map((f) => ({ from: ortFile(f), to: `${ORT_DIR}/${f}`, info: { minimized: true } })),
        ],
      }),
      new InjectManifest({
        swSrc: join(root, 'workers/sw.ts'),
        swDest: 'sw.js',
        maximumFileSizeToCacheInBytes: MAX_PRECACHE_BYTES,
        // Source maps and model bundles never go in the precache; models live in IndexedDB.
        exclude: [/\.map$/, /^models\//, /\.LICENSE\.txt$/],
      }),
      new FailOnPrecacheWarnings(),
    ],
    // protobufjs (used by onnx-proto) probes for optional modules with eval('require') inside a
    // try/catch; in the browser the probe fails closed and nothing depends on it.
    ignoreWarnings: [{ module: /@protobufjs[\\/]inquire/, message: /Critical dependency/ }],
    performance: { hints: false },
    stats: { preset: 'errors-warnings', assets: true, assetsSort: '!size', timings: true },
  };
};
