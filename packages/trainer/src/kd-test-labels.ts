// A real `kd label`-format dataset for the trainer's tests, without running the teacher: real
// corpus text framed by the real teacher tokenizer, written by the real Parquet codec, with
// rows that put most mass on the teacher's actual next token (so a student target can be
// checked against the text).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatasetWriter } from '@kd/codec-parquet';
import type { LabelledDocument } from '@kd/compress';
import { loadTokenizer, readCorpus } from '@kd/text';
import { devCorpus, teacherTokenizer } from './test-fixtures.js';

export const studentTokenizerPath = new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url).pathname;

/** Writes `documents` dev documents as labels with k = 4 rows; returns the folder. */
export async function writeTestLabels(options: { documents: number; rowsPerPart?: number; close?: boolean; dir?: string }): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kd-labels-')));
  const teacher = await loadTokenizer(teacherTokenizer);
  const k = 4;
  const writer = await openDatasetWriter(
    dir,
    {
      teacher: { id: 'synthetic-teacher', sha256: '0'.repeat(64) },
      tokenizer: { sha256: teacher.sha256 },
      vocabSize: teacher.vocabSize,
      temperature: 1,
      compression: { mode: 'fixed', k },
    },
    { rowsPerPart: options.rowsPerPart ?? 600 },
  );
  for await (const corpusDocument of readCorpus(devCorpus, { limit: options.documents })) {
    const encoded = await teacher.frame(corpusDocument.text, { bos: true, eos: true });
    const tokens = encoded.ids.length;
    const rowCount = tokens - 1;
    const offsets = new Uint32Array(rowCount + 1);
    const ids = new Uint32Array(rowCount * k);
    const probs = new Float32Array(rowCount * k);
    const tailMass = new Float32Array(rowCount).fill(0.05);
    const shares = [0.7, 0.15, 0.06, 0.04];
    for (let row = 0; row < rowCount; row++) {
      offsets[row + 1] = (row + 1) * k;
      const next = encoded.ids[row + 1];
      for (let entry = 0; entry < k; entry++) {
        // The next token first, then distinct neighbours of it.
        ids[row * k + entry] = entry === 0 ? next : (next + 97 * entry) % teacher.vocabSize;
        probs[row * k + entry] = shares[entry];
      }
    }
    const document: LabelledDocument = {
      index: corpusDocument.index,
      id: corpusDocument.id,
      text: corpusDocument.text,
      tokenIds: encoded.ids,
      offsets: encoded.offsets,
      rows: { length: rowCount, offsets, ids, probs, tailMass },
    };
    await writer.append(document);
  }
  if (options.close ?? true) await writer.close();
  return dir;
}
