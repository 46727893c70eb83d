// Why distillation across tokenizers gains less than within one: two measurements beside the
// KD-quality benchmark (bench/distill.ts), on its adaptive p=0.95 label set.
// 1. Target diagnostics: on the first micro-batches of the benchmark's data order, how often the
//    student's own next token has no mass in its teacher target, and how much of the target sits
//    on student tokens that are a proper byte prefix of that token (pieces the student's
//    tokenizer does not emit there), for the 8k example student and for the teacher's own 32k
//    tokenizer as the student's; and with prefix-group targets, how often the student token's
//    group has no mass.
// 2. Same-tokenizer reference: the benchmark's student shape on the teacher's tokenizer, CE
//    (α = 0) beside KD (α = 0.5) on the same labels, seed and windows, dev perplexity.
// Usage: npx tsx bench/distill-diagnose.ts [--steps 250]   (runs cached under out/bench/distill/same-tokenizer)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '@kd/codec-parquet';
import { evaluateStudent } from '@kd/pipeline';
import { loadTokenizer } from '@kd/text';
import { TeacherBatchSampler, exportModel, train } from '@kd/trainer';
import { buildVocabularyMap, groupedWidth, prefixGroups } from '@kd/vocab-align';
import { adaptiveLabelSet } from './distill-labels.js';
import { student as studentShape } from './distill.js';
import { repoRoot, sharedDir } from './report.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '250' }, batches: { type: 'string', default: '20' } } });
const steps = Number(values.steps);
const teacherDir = `${sharedDir}fixtures/teacher-llama-13m`;
const teacherTokenizer = join(teacherDir, 'tokenizer.json');
const exampleStudent = `${repoRoot}examples/student-tokenizer/tokenizer.json`;
const benchDir = `${repoRoot}out/bench/distill`;
const labels = adaptiveLabelSet(join(benchDir, 'labels'));
const sequenceLength = 128;
const batchSize = 8;

async function diagnose(studentTokenizer: string, batches: number, grouped = false): Promise<Record<string, number | null>> {
  const teacher = await loadTokenizer(teacherTokenizer);
  const student = await loadTokenizer(studentTokenizer);
  const map = await buildVocabularyMap(teacher, student, { rule: 'first-piece', cacheDir: join(benchDir, 'maps') });
  const reader = await openDataset(labels, { expectTokenizerSha256: teacher.sha256 });
  const kept = reader.manifest.compression.mode === 'adaptive' ? reader.manifest.compression.kMax : 64;
  const groups = grouped ? prefixGroups(map) : undefined;
  const width = groups ? groupedWidth(groups, kept) : kept;
  const sampler = new TeacherBatchSampler(
    { parts: reader.manifest.parts.length, part: (index) => reader.part(index) },
    (text) => student.frame(text, { bos: true, eos: true }),
    { sequenceLength, batchSize, seed: 0, teacherToStudent: map.teacherToStudent, studentVocabSize: student.vocabSize, width, tail: 'renormalize', groups, shuffleParts: 1 },
  );
  await sampler.open();
  const bytesOf = (id: number) => Buffer.from(student.tokenBytes(id)).toString('latin1');
  let positions = 0;
  let present = 0;
  let missing = 0;
  let massOnLabel = 0;
  let prefixMass = 0;
  for (let b = 0; b < batches; b++) {
    const { targets, tokens } = await sampler.batchAt(b * 13);
    for (let row = 0; row < batchSize * sequenceLength; row++) {
      positions++;
      if (!targets.present[row]) continue;
      present++;
      const label = tokens[Math.floor(row / sequenceLength) * (sequenceLength + 1) + (row % sequenceLength) + 1]!;
      const labelBytes = bytesOf(label);
      let onLabel = 0;
      for (let k = 0; k < targets.width; k++) {
        const id = targets.ids[row * targets.width + k]!;
        const probability = targets.probs[row * targets.width + k]!;
        if (probability <= 0) continue;
        // Grouped: the mass of the label's group (it sits on the group's first entry).
        if (groups) {
          if (groups.studentGroup[id] === groups.studentGroup[label]) onLabel += probability;
          continue;
        }
        if (id === label) onLabel += probability;
        else {
          const bytes = bytesOf(id);
          if (bytes.length < labelBytes.length && labelBytes.startsWith(bytes)) prefixMass += probability;
        }
      }
      massOnLabel += onLabel;
      if (onLabel === 0) missing++;
    }
  }
  return { positions, alignedFraction: present / positions, labelWithoutMass: missing / present, meanMassOnLabel: massOnLabel / present, meanMassOnProperPrefixesOfLabel: groups ? null : prefixMass / present };
}

async function sameTokenizerRun(alpha: number): Promise<{ alpha: number; perplexity: number | null; bitsPerByte: number | null; tokens: number }> {
  const out = join(benchDir, 'same-tokenizer', `a${alpha}-${steps}`);
  const exported = `${out}-export`;
  if (!existsSync(join(exported, 'onnx', 'model.onnx'))) {
    if (!existsSync(join(out, 'checkpoint', 'state.json'))) {
      await train(
        { objective: 'kd', labels, teacherTokenizer, studentTokenizer: teacherTokenizer, out, model: studentShape, steps, batchSize, sequenceLength, seed: 0, warmupSteps: Math.round(steps / 10), checkpointEvery: steps, threads: 1, alpha, mapCacheDir: join(benchDir, 'maps') },
        { onProgress: (progress) => progress.step % 50 === 0 && process.stderr.write(`same-tokenizer α=${alpha}: step ${progress.step}\n`) },
      );
    }
    await exportModel(out, exported);
  }
  const scored = await evaluateStudent({ student: exported, corpus: `${sharedDir}corpus/dev.jsonl`, tasks: ['text', 'code'], limit: 4, threads: 1 });
  return { alpha, perplexity: scored.perplexity, bitsPerByte: scored.bitsPerByte, tokens: scored.tokens };
}

const batches = Number(values.batches);
console.log(
  JSON.stringify(
    { targets: { exampleStudent: await diagnose(exampleStudent, batches), exampleStudentPrefixGroups: await diagnose(exampleStudent, batches, true), teacherTokenizerAsStudent: await diagnose(teacherTokenizer, batches) } },
    null,
    2,
  ),
);
const ce = await sameTokenizerRun(0);
const kd = await sameTokenizerRun(0.5);
console.log(JSON.stringify({ sameTokenizer: { steps, tokensPerRow: steps * batchSize * sequenceLength, ce, kd, ratio: ce.perplexity && kd.perplexity ? kd.perplexity / ce.perplexity : null } }, null, 2));
