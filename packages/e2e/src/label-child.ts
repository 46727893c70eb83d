// `kd` in a child process that kills itself with SIGKILL right after its N-th progress update
// (for `kd label`: the N-th document handed to the dataset writer), so a crash lands at the
// same point on a fast machine as on a slow one.
// Usage: node --import tsx label-child.ts <N> <kd arguments…>
import { fileURLToPath } from 'node:url';
import { Progress } from '../../../apps/distill/src/progress.js';

const [countText, ...args] = process.argv.slice(2);
const stopAfter = Number(countText);
let updates = 0;
const update = Progress.prototype.update;
Progress.prototype.update = function (this: Progress, ...rest: Parameters<Progress['update']>) {
  update.apply(this, rest);
  if (++updates === stopAfter) process.kill(process.pid, 'SIGKILL');
};
process.argv = [process.argv[0]!, fileURLToPath(new URL('../../../apps/distill/src/cli.ts', import.meta.url)), ...args];
await import('../../../apps/distill/src/cli.js');
