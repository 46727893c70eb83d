import { packageConfig } from '../../tsup.config.base';

// The CLI is an ES module executable: no CommonJS build, no declarations.
export default packageConfig({ entry: ['src/cli.ts'], format: ['esm'], dts: false, banner: { js: '#!/usr/bin/env node' } });
