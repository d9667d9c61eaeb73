/**
 * `npm start`: build the app if `dist/` is missing or older than its sources, generate the demo model
 * bundle if absent, then serve both and print the URL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SOURCES = [
  'src',
  'workers',
  'static',
  'manifest.webmanifest',
  'webpack.config.ts',
  'package.json',
  'tsconfig.app.json',
];
const DEMO_MODEL = 'models/vgg16-demo';

/** Newest modification time under `path` (a file or a folder), 0 if it does not exist. */
export function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether `out` (default `<dir>/dist`) is missing or older than any source of the app build. */
export function needsBuild(dir = root, out = join(dir, 'dist'), extraSources: string[] = []): boolean {
  const built = join(out, 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return [...SOURCES, ...extraSources].some((s) => newestMtime(join(dir, s)) > builtAt);
}

function run(cmd: string, args: string[]): void {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`convlens: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  if (needsBuild()) run('npm', ['run', 'build']);
  if (!existsSync(join(root, DEMO_MODEL, 'manifest.json'))) {
    run(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'model',
      'build',
      '--weights',
      'demo',
      '--quant',
      'int8',
      '--out',
      DEMO_MODEL,
    ]);
  }
  const handle = await serve({ dist: join(root, 'dist'), models: join(root, 'models') });
  console.log(`convlens is running at ${handle.url}  (Ctrl+C to stop)`);
  process.once('SIGINT', () => void handle.close().then(() => process.exit(0)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
