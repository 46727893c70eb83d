import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// The data workers are entries of their own: they run in worker threads from dist/batch-worker.js
// (corpus windows) and dist/kd-batch-worker.js (teacher-row batches of a labels folder).
// TensorFlow.js (tfjs-core, its wasm backend and the cpu kernels that backend reuses) is bundled
// into dist/ and tree-shaken from its ES-module build: installed as packages they are 61 MB of
// alternative bundles and source maps, of which the trainer runs a few MB (see the README,
// "Installed size"). The list is package.json's `inlinedDependencies` (devDependencies, so the
// workspace has them); the wasm binaries the backend loads are copied beside the built files
// (src/backend.ts points the backend there). The ES-module build's own `require` calls (Node
// built-ins in the emscripten loader) get a real `require` through the banner.
const require = createRequire(import.meta.url);
const wasmFolder = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
// Node runs the plain and the SIMD binary; the threaded one needs browser workers (src/backend.ts).
const wasmFiles = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

export default packageConfig({
  entry: ['src/index.ts', 'src/batch-worker.ts', 'src/kd-batch-worker.ts'],
  noExternal: manifest.inlinedDependencies.map((name) => new RegExp(`^${name.replace('/', '\\/')}(\\/|$)`)),
  // tfjs-core falls back to node-fetch only where no global fetch exists (Node 20 has one), and the trainer fetches nothing.
  external: ['node-fetch'],
  esbuildOptions(options) {
    options.mainFields = ['module', 'main'];
  },
  banner: ({ format }) => (format === 'esm' ? { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" } : {}),
  async onSuccess() {
    for (const file of wasmFiles) copyFileSync(join(wasmFolder, file), join('dist', file));
  },
});
