// Vocabulary alignment for three tokenizer pairs; the mass shares use the dataset the
// `modes` section labelled from dev.jsonl (adaptive p=0.95), labelling it here if absent.
import { existsSync } from 'node:fs';
import { alignTable, benchAlign } from '../packages/vocab-align/bench/align.js';
import { machine, type SectionResult } from './report.js';

export async function benchAlignSection(dataset: string, labelIfMissing: () => Promise<void>): Promise<Omit<SectionResult, 'command'>> {
  if (!existsSync(`${dataset}/manifest.json`)) await labelIfMissing();
  const rows = await benchAlign({ dataset });
  const markdown = [
    'Overlap counts are vocabulary entries whose raw strings (raw) or decoded bytes (normalized) match. Mass shares are over every position of `../shared/corpus/dev.jsonl` labelled by the shared teacher (adaptive p=0.95, kMax 64): exact = ids with a byte-identical student token, mapped = ids mapped to the first student piece of their text. Aligned positions: student positions whose predicted token starts where a teacher token starts, over all of dev.jsonl. Map build: the whole teacher vocabulary, no cache.',
    '',
    alignTable(rows),
  ].join('\n');
  return { title: 'Vocabulary alignment (@kd/vocab-align)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: rows };
}
