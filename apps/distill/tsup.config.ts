import { packageConfig } from '../../tsup.config.base';

export default packageConfig({ entry: ['src/cli.ts'], dts: false, banner: { js: '#!/usr/bin/env node' } });
