// An export in its own process for the crash-safety test: overwrites an export folder and kills
// itself with SIGKILL at a chosen step of the replacement. The file-system calls are
// intercepted, so the point is exact, not timed.
// Usage: node --import tsx export-crash-child.ts <outDir> <seed> <before-aside | before-in | before-delete>
import { createRequire, syncBuiltinESMExports } from 'node:module';

const [outDir, seedText, stopAt] = process.argv.slice(2);
const fs = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const { rename, rm } = fs;
const stop = () => process.kill(process.pid, 'SIGKILL');
let movedIn = false;
fs.rename = (async (from: string, to: string) => {
  if (stopAt === 'before-aside' && String(to).includes('.previous-')) stop();
  if (stopAt === 'before-in' && String(from).includes('.partial-')) stop();
  await rename(from, to);
  if (String(from).includes('.partial-')) movedIn = true;
}) as typeof fs.rename;
fs.rm = (async (path: string, options?: Parameters<typeof rm>[1]) => {
  if (stopAt === 'before-delete' && movedIn && String(path).includes('.previous-')) stop();
  return rm(path, options);
}) as typeof fs.rm;
syncBuiltinESMExports();

const { initializeBackend } = await import('./backend.js');
const { exportModel } = await import('./export.js');
const { createModel } = await import('./model.js');
const { exportTestConfig, teacherTokenizer } = await import('./test-fixtures.js');

await initializeBackend({ prefer: 'wasm' });
const model = createModel(exportTestConfig, { seed: Number(seedText) });
await exportModel(model, outDir, { tokenizer: teacherTokenizer, overwrite: true });
process.stdout.write('finished\n');
