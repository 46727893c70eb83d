import { packageConfig } from '../../tsup.config.base';

export default packageConfig({ entry: ['src/index.ts', 'src/cli.ts'] });
