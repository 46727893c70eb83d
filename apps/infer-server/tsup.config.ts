import { packageConfig } from '../../tsup.config.base';

// The library in both formats; the executable (top-level await) as an ES module only.
export default [packageConfig({ entry: ['src/index.ts'] }), packageConfig({ entry: ['src/cli.ts'], format: ['esm'], dts: false, clean: false })];
