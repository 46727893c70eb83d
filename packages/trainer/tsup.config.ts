import { packageConfig } from '../../tsup.config.base';

// The data worker is its own entry: it runs in a worker thread from dist/batch-worker.js.
export default packageConfig({ entry: ['src/index.ts', 'src/batch-worker.ts'] });
