import { packageConfig } from '../../tsup.config.base';

// The data worker is its own entry: it runs in a worker thread from dist/batch-worker.js.
// tfjs-core's gradient files are bundled (Node cannot load them from the package; see src/tf-gradients.ts).
export default packageConfig({ entry: ['src/index.ts', 'src/batch-worker.ts'], noExternal: [/^@tensorflow\/tfjs-core\/dist\/gradients\//] });
