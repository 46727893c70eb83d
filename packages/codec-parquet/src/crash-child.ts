// A labelling run in its own process for the crash-safety tests: writes a synthetic corpus and
// is killed with SIGKILL, either by itself after a given number of documents or by the parent.
// Usage: node --import tsx crash-child.ts <dir> <documents> <rowsPerPart> <killAfter | -1>
import { syntheticCorpus, testHeader } from './synthetic.js';
import { openDatasetWriter } from './writer.js';

const [dir, countText, rowsPerPartText, killAfterText] = process.argv.slice(2);
const killAfter = Number(killAfterText);
const writer = await openDatasetWriter(dir, testHeader, { rowsPerPart: Number(rowsPerPartText), resume: true });
let appended = 0;
for (const document of syntheticCorpus(Number(countText), 11)) {
  if (document.index < writer.resumeFrom) continue;
  await writer.append(document);
  appended++;
  process.stdout.write(`appended ${document.index}\n`);
  if (appended === killAfter) process.kill(process.pid, 'SIGKILL');
}
await writer.close();
process.stdout.write('closed\n');
