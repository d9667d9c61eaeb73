/** Where the e2e run keeps what it builds (all under the git-ignored `.e2e/`). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const E2E_DIR = join(ROOT, '.e2e');
/** The app built with `--env e2e` (index.html plus the e2e.html test page). */
export const DIST = join(E2E_DIR, 'dist');
/** Model bundles the test server serves under `<base>models/`. */
export const MODELS = join(E2E_DIR, 'models');
/** The full-size demo bundle (VGG16 int8, 138 MB in 6 shards), built once and kept between runs. */
export const FULL_MODELS = join(E2E_DIR, 'full-models');
export const Y4M = join(E2E_DIR, 'camera.y4m');
/** The demo bundle's id (the UI downloads `models/vgg16-demo/`); here a TINY_VGG int8 bundle in 4 kB shards. */
export const MODEL_ID = 'vgg16-demo';
/** The app is served under a sub-path in every test, so relative URLs and the manifest scope are exercised. */
export const BASE = '/convlens/';
