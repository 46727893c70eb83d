// Bytes per token on disk, kept entries, tail mass and KL(full ‖ decoded) for each compression
// setting, on the shared teacher and corpus. The teacher runs once with top-64 candidates; each
// setting cuts those candidates exactly as the labelling fast path would (TopK(k) is a prefix of
// TopK(64)), is written with the codec, and is read back to measure what a trainer would see.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { datasetStats, openDataset, openDatasetWriter } from '@kd/codec-parquet';
import { klFullToSparse, rowAt, softmax, type CompressionSpec, type LabelledDocument } from '@kd/compress';
import { loadTeacher } from '@kd/teacher';
import { readCorpus } from '@kd/text';
import { cutRows } from './cut-rows.js';
import { machine, table, type SectionResult } from './report.js';

const settings: { name: string; spec: CompressionSpec }[] = [
  { name: 'fixed k=8', spec: { mode: 'fixed', k: 8 } },
  { name: 'fixed k=32', spec: { mode: 'fixed', k: 32 } },
  { name: 'fixed k=64', spec: { mode: 'fixed', k: 64 } },
  { name: 'adaptive p=0.9', spec: { mode: 'adaptive', p: 0.9, kMin: 1, kMax: 64 } },
  { name: 'adaptive p=0.95', spec: { mode: 'adaptive', p: 0.95, kMin: 1, kMax: 64 } },
  { name: 'adaptive p=0.99', spec: { mode: 'adaptive', p: 0.99, kMin: 1, kMax: 64 } },
];

/** Half a step of the stored tail mass (16-bit linear): the largest tail that is stored as 0. */
const tailResolution = 0.5 / 65535;

export interface LabelModesOptions {
  teacherDir: string;
  corpusPath: string;
  /** Documents to label (all when omitted). */
  limit?: number;
  /** Short documents per task whose every position enters the KL measurement. */
  klDocumentsPerTask: number;
  /** Keep the dataset of this setting in `dir` (replacing what is there) for later sections. */
  keep?: { setting: string; dir: string };
}

export async function benchLabelModes(options: LabelModesOptions): Promise<Omit<SectionResult, 'command'>> {
  const work = mkdtempSync(join(tmpdir(), 'kd-bench-modes-'));
  const teacher = await loadTeacher(options.teacherDir, { topK: 64 });
  try {
    const header = (spec: CompressionSpec) => ({
      teacher: { id: 'teacher-llama-13m', sha256: teacher.modelSha256 },
      tokenizer: { sha256: teacher.tokenizerSha256 },
      vocabSize: teacher.vocabSize,
      temperature: 1,
      compression: spec,
    });
    const writers = await Promise.all(settings.map((setting, i) => openDatasetWriter(join(work, String(i)), header(setting.spec))));
    const window = Math.min(teacher.contextLength, 256);
    const klSample = new Map<number, LabelledDocument>();
    const perTask = new Map<string, number>();
    let tokens = 0;
    const corpus = readCorpus(options.corpusPath, options.limit === undefined ? {} : { limit: options.limit });
    for await (const document of teacher.label(corpus, { spec: { mode: 'fixed', k: 64 } })) {
      tokens += document.tokenIds.length;
      for (let i = 0; i < settings.length; i++) await writers[i]!.append(cutRows(document, settings[i]!.spec));
      const task = document.task ?? 'text';
      if ((perTask.get(task) ?? 0) < options.klDocumentsPerTask) {
        perTask.set(task, (perTask.get(task) ?? 0) + 1);
        klSample.set(document.index, document);
      }
    }
    for (const writer of writers) await writer.close();
    const kept = settings.findIndex((setting) => setting.name === options.keep?.setting);
    if (options.keep && kept >= 0) {
      rmSync(options.keep.dir, { recursive: true, force: true });
      mkdirSync(dirname(options.keep.dir), { recursive: true });
      cpSync(join(work, String(kept)), options.keep.dir, { recursive: true });
    }

    // Full softmax of the sampled documents' first window, where every position was labelled
    // with exactly the context of that window.
    const full = new Map<number, Float32Array>();
    for (const document of klSample.values()) {
      const length = Math.min(document.tokenIds.length, window);
      full.set(document.index, await teacher.forwardLogits(Int32Array.from(document.tokenIds.subarray(0, length)), undefined, 1, length));
    }
    const vocab = teacher.vocabSize;
    let klPositions = 0;
    const rows: (string | number)[][] = [];
    const data: Record<string, unknown>[] = [];
    for (let i = 0; i < settings.length; i++) {
      const dir = join(work, String(i));
      const stats = await datasetStats(dir);
      let klSum = 0;
      klPositions = 0;
      const probabilities = new Float32Array(vocab);
      for await (const decoded of (await openDataset(dir)).documents()) {
        const logits = full.get(decoded.index);
        if (!logits) continue;
        const positions = Math.min(decoded.rows.length, logits.length / vocab);
        for (let position = 0; position < positions; position++) {
          softmax(logits.subarray(position * vocab, (position + 1) * vocab), 1, probabilities);
          const row = rowAt(decoded.rows, position);
          // A stored tail of 0 means "below the tail's resolution", not "no mass": decode it as
          // that resolution so an id outside the row is unlikely, not impossible.
          klSum += klFullToSparse(probabilities, { ...row, tailMass: Math.max(row.tailMass, tailResolution) }, { tail: 'uniform' });
          klPositions++;
        }
      }
      const meanKl = klSum / klPositions;
      rows.push([settings[i]!.name, stats.bytesPerToken.toFixed(2), `${Math.round((vocab * 4) / stats.bytesPerToken)}×`, stats.meanKept.toFixed(2), stats.meanTailMass.toFixed(4), meanKl.toFixed(4)]);
      data.push({ setting: settings[i]!.name, spec: settings[i]!.spec, ...stats, meanKl, klPositions });
    }
    const fp32Bytes = vocab * 4;
    const markdown = [
      `${tokens} tokens of \`${options.corpusPath.replace(/.*\/shared\//, '../shared/')}\`${options.limit ? ` (first ${options.limit} documents)` : ''}, teacher \`teacher-llama-13m\` (V = ${vocab}; a full fp32 row is ${fp32Bytes} bytes). ` +
        `KL(full ‖ decoded) is the mean over ${klPositions} positions: the first ${window}-token window (labelled with exactly that context) of ${klSample.size} documents, ${options.klDocumentsPerTask} per task, ` +
        'read back from disk (quantized), the tail mass spread evenly over the ids not kept (a stored tail of 0 read as half the tail\'s 16-bit step, 7.6e-6).',
      '',
      table(['setting', 'bytes / token', 'smaller than an fp32 row', 'mean kept', 'mean tail mass', 'mean KL (nats)'], rows),
    ].join('\n');
    return { title: 'Dataset size and fidelity by compression setting', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data };
  } finally {
    await teacher.close();
    rmSync(work, { recursive: true, force: true });
  }
}
