import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@kd/codec-parquet';
import { loadTokenizer } from '@kd/text';
import { buildVocabularyMap, groupedWidth, prefixGroups, vocabularyMapCachePath } from '@kd/vocab-align';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeacherBatchSampler } from './kd-batches.js';
import { openDistillationData } from './kd-data.js';
import { studentTokenizerPath, writeTestLabels } from './kd-test-labels.js';
import { teacherTokenizer } from './test-fixtures.js';
import { train, type TrainOptionsInput } from './train.js';

const folders: string[] = [];
async function fresh(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

let labels: string;
beforeAll(async () => {
  labels = await writeTestLabels({ documents: 12, rowsPerPart: 400 });
  folders.push(labels);
});

const base = (out: string): TrainOptionsInput => ({
  objective: 'kd',
  labels,
  teacherTokenizer,
  studentTokenizer: studentTokenizerPath,
  out,
  model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2, maxPositions: 64 },
  steps: 4,
  batchSize: 2,
  sequenceLength: 16,
  accumulate: 2,
  learningRate: 1e-2,
  seed: 3,
  alpha: 0.7,
  checkpointEvery: 2,
  backend: 'wasm',
});

describe('distillation data path', () => {
  it('an epoch visits every window once, and each position carries the teacher row of its own text', async () => {
    const data = await openDistillationData({ labels, teacherTokenizer, studentTokenizer: studentTokenizerPath, mapping: 'first-piece' });
    expect(data.source.parts).toBeGreaterThan(2);
    const sequenceLength = 16;
    const batchSize = 3;
    const sampler = new TeacherBatchSampler(data.source, data.encode, {
      sequenceLength,
      batchSize,
      seed: 1,
      teacherToStudent: data.map.teacherToStudent,
      studentVocabSize: data.student.vocabSize,
      width: data.width,
      tail: 'bucket',
      shuffleParts: 1,
    });
    await sampler.open();
    expect(sampler.alignedPositions / sampler.tokens).toBeGreaterThan(0.5);
    const seen = new Set<string>();
    let present = 0;
    let topIsLabel = 0;
    const batches = Math.floor(sampler.windows / batchSize);
    for (let position = 0; position < batches; position++) {
      const { tokens, targets, epoch, origins } = await sampler.batchAt(position);
      expect(epoch).toBe(0);
      for (let row = 0; row < batchSize; row++) seen.add(`${origins[2 * row]}:${origins[2 * row + 1]}`);
      for (let at = 0; at < targets.rows; at++) {
        if (targets.present[at] === 0) continue;
        present++;
        let sum = targets.residual[at];
        for (let k = 0; k < targets.width; k++) sum += targets.probs[at * targets.width + k];
        expect(sum).toBeCloseTo(1, 5);
        // The teacher's next token (70% of its mass) maps to the student's next token where both split alike.
        const row = Math.floor(at / sequenceLength);
        const label = tokens[row * (sequenceLength + 1) + (at % sequenceLength) + 1];
        if (targets.ids[at * targets.width] === label) topIsLabel++;
      }
    }
    expect(seen.size).toBe(batches * batchSize);
    expect(topIsLabel / present).toBeGreaterThan(0.6);
    // Micro-batch p is a pure function of (seed, p): a fresh sampler serves the same batch.
    const again = new TeacherBatchSampler(data.source, data.encode, { sequenceLength, batchSize, seed: 1, teacherToStudent: data.map.teacherToStudent, studentVocabSize: data.student.vocabSize, width: data.width, tail: 'bucket', shuffleParts: 1 });
    await again.open();
    const [first, second] = [await sampler.batchAt(batches + 2), await again.batchAt(batches + 2)];
    expect(second.tokens).toEqual(first.tokens);
    expect(second.targets).toEqual(first.targets);
  });
});

describe('windows shuffled across parts (shuffleParts)', () => {
  it('an epoch still visits every window once, a group mixes the windows of its parts (a group of one part keeps its own order), and batch p stays a function of (seed, p)', async () => {
    const data = await openDistillationData({ labels, teacherTokenizer, studentTokenizer: studentTokenizerPath, mapping: 'first-piece' });
    const parts = data.source.parts;
    expect(parts).toBeGreaterThan(3);
    const batchSize = 2;
    const sampler = (shuffleParts: number) =>
      new TeacherBatchSampler(data.source, data.encode, { sequenceLength: 16, batchSize, seed: 1, teacherToStudent: data.map.teacherToStudent, studentVocabSize: data.student.vocabSize, width: data.width, tail: 'renormalize', shuffleParts });
    // The part of each window of epoch 0, in the order they are served.
    const epochParts = async (shuffleParts: number) => {
      const one = sampler(shuffleParts);
      await one.open();
      const visited: string[] = [];
      const partOf: number[] = [];
      for (let position = 0; position * batchSize < one.windows; position++) {
        const { origins, epoch } = await one.batchAt(position);
        for (let row = 0; row < batchSize && position * batchSize + row < one.windows; row++) {
          expect(epoch).toBe(0);
          visited.push(`${origins[2 * row]}:${origins[2 * row + 1]}`);
          partOf.push(origins[2 * row]!);
        }
      }
      return { one, visited, partOf };
    };
    // Changes of part along the epoch: one part at a time changes parts − 1 times.
    const switches = (partOf: number[]) => partOf.slice(1).filter((part, i) => part !== partOf[i]).length;
    const single = await epochParts(1);
    expect(switches(single.partOf)).toBe(parts - 1);
    for (const shuffleParts of [3, parts - 1, parts + 5]) {
      const { one, visited, partOf } = await epochParts(shuffleParts);
      expect(new Set(visited).size).toBe(one.windows);
      expect(new Set(visited)).toEqual(new Set(single.visited));
      expect(switches(partOf)).toBeGreaterThan(parts);
      // The first group's windows come from its parts alone: the first shuffleParts parts of the epoch's order.
      const groupParts = new Set(single.partOf.filter((part, i) => i === 0 || part !== single.partOf[i - 1]).slice(0, shuffleParts));
      const groupWindows = single.partOf.filter((part) => groupParts.has(part)).length;
      expect(new Set(partOf.slice(0, groupWindows))).toEqual(groupParts);
      if (shuffleParts === parts - 1) {
        // The last group holds one part: its windows come in that part's own order, as with one part at a time.
        const lastPart = single.partOf.at(-1)!;
        const lastWindows = single.partOf.filter((part) => part === lastPart).length;
        expect(visited.slice(-lastWindows)).toEqual(single.visited.slice(-lastWindows));
      }
      const again = sampler(shuffleParts);
      await again.open();
      const position = Math.floor(one.windows / batchSize) + 1;
      const [first, second] = [await one.batchAt(position), await again.batchAt(position)];
      expect(second.tokens).toEqual(first.tokens);
      expect(second.targets).toEqual(first.targets);
    }
  });

  it('train with shuffleParts resumes exactly, and a resume with another shuffleParts is refused', async () => {
    const mixed = (out: string): TrainOptionsInput => ({ ...base(out), shuffleParts: 4 });
    const whole = await train(mixed(await fresh('kd-shuffle-')));
    expect(whole.losses.every(Number.isFinite)).toBe(true);
    expect(whole.losses).not.toEqual((await train(base(await fresh('kd-shuffle-')))).losses);
    const out = await fresh('kd-shuffle-');
    const controller = new AbortController();
    await train(mixed(out), { signal: controller.signal, onProgress: (progress) => progress.step === 2 && controller.abort() });
    await expect(train({ ...base(out), resume: true })).rejects.toThrow(/shuffleParts/);
    expect((await train({ ...mixed(out), resume: true })).losses).toEqual(whole.losses);
  });
});

describe('prefix-group targets', () => {
  it('list each reached group once with its mass on its first entry, and give the student’s own next token mass more often than ids do', async () => {
    const data = await openDistillationData({ labels, teacherTokenizer, studentTokenizer: studentTokenizerPath, mapping: 'first-piece' });
    const groups = prefixGroups(data.map);
    const common = { sequenceLength: 16, batchSize: 4, seed: 2, teacherToStudent: data.map.teacherToStudent, studentVocabSize: data.student.vocabSize, tail: 'renormalize' as const, shuffleParts: 1 };
    const byToken = new TeacherBatchSampler(data.source, data.encode, { ...common, width: data.width });
    const byGroup = new TeacherBatchSampler(data.source, data.encode, { ...common, width: groupedWidth(groups, data.width), groups });
    await byToken.open();
    await byGroup.open();
    let present = 0;
    let labelHasMass = 0;
    let labelGroupHasMass = 0;
    for (let position = 0; position < 6; position++) {
      const [tokenBatch, groupBatch] = [await byToken.batchAt(position), await byGroup.batchAt(position)];
      expect(groupBatch.tokens).toEqual(tokenBatch.tokens);
      const { targets } = groupBatch;
      const { width } = targets;
      for (let at = 0; at < targets.rows; at++) {
        expect(groupBatch.targets.present[at]).toBe(tokenBatch.targets.present[at]);
        if (targets.present[at] === 0) continue;
        present++;
        let sum = 0;
        const massOfGroup = new Map<number, number>();
        const listed = new Set<number>();
        for (let k = 0; k < width; k++) {
          const id = targets.ids[at * width + k];
          const head = targets.category![at * width + k];
          sum += targets.probs[at * width + k];
          if (listed.has(id)) continue;
          listed.add(id);
          // Every entry of a group points at the group's first entry, which is in the same group.
          expect(groups.studentGroup[targets.ids[at * width + head]]).toBe(groups.studentGroup[id]);
          if (head !== k) expect(targets.probs[at * width + k]).toBe(0);
          else massOfGroup.set(groups.studentGroup[id], targets.probs[at * width + k]);
        }
        expect(sum).toBeCloseTo(1, 5);
        // Whole groups: each listed group with all of its ids.
        for (const group of massOfGroup.keys()) for (let m = groups.offsets[group]; m < groups.offsets[group + 1]; m++) expect(listed.has(groups.members[m])).toBe(true);
        const label = groupBatch.tokens[Math.floor(at / 16) * 17 + (at % 16) + 1];
        if ((massOfGroup.get(groups.studentGroup[label]) ?? 0) > 0) labelGroupHasMass++;
        const tokenTargets = tokenBatch.targets;
        for (let k = 0; k < tokenTargets.width; k++) {
          if (tokenTargets.ids[at * tokenTargets.width + k] === label && tokenTargets.probs[at * tokenTargets.width + k] > 0) {
            labelHasMass++;
            break;
          }
        }
      }
    }
    expect(present).toBeGreaterThan(100);
    expect(labelGroupHasMass).toBeGreaterThan(labelHasMass);
  });

  it('train on prefix groups (the default), resume exactly, and a resume with other categories is refused', async () => {
    const grouped = (out: string): TrainOptionsInput => ({ ...base(out), categories: 'prefix-group' });
    const whole = await train(grouped(await fresh('kd-groups-')));
    expect(whole.losses.every(Number.isFinite)).toBe(true);
    const byToken = await train({ ...base(await fresh('kd-groups-')), categories: 'token' });
    expect(whole.losses).not.toEqual(byToken.losses);
    const out = await fresh('kd-groups-');
    const controller = new AbortController();
    await train(grouped(out), { signal: controller.signal, onProgress: (progress) => progress.step === 2 && controller.abort() });
    await expect(train({ ...base(out), categories: 'token', resume: true })).rejects.toThrow(/categories/);
    expect((await train({ ...grouped(out), resume: true })).losses).toEqual(whole.losses);
  });
});

describe('train (objective kd)', () => {
  it('trains from labels, and a run stopped and resumed follows the uninterrupted loss curve exactly', async () => {
    const whole = await train(base(await fresh('kd-train-')));
    expect(whole.losses).toHaveLength(4);
    expect(whole.losses.every(Number.isFinite)).toBe(true);
    const out = await fresh('kd-train-');
    const controller = new AbortController();
    const first = await train(base(out), { signal: controller.signal, onProgress: (progress) => progress.step === 2 && controller.abort() });
    expect(first.stopped).toBe(true);
    const resumed = await train({ ...base(out), resume: true });
    expect(resumed.losses).toEqual(whole.losses);
  });

  it('refuses labels made with another tokenizer than the teacher named', async () => {
    await expect(train({ ...base(await fresh('kd-train-')), teacherTokenizer: studentTokenizerPath })).rejects.toThrow(/made with another tokenizer than teacherTokenizer/);
  });

  it('refuses a labels folder of an unknown format version, and an incomplete one', async () => {
    const copy = await fresh('kd-labels-');
    await cp(labels, copy, { recursive: true });
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'));
    await writeFile(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expect(train({ ...base(await fresh('kd-train-')), labels: copy })).rejects.toThrow(/E_FORMAT_VERSION.*format version 1 or 2, found 99/);
    const incomplete = await writeTestLabels({ documents: 4, close: false, rowsPerPart: 100, dir: await fresh('kd-labels-') });
    await expect(openDataset(incomplete)).rejects.toMatchObject({ code: 'E_INCOMPLETE' });
    await expect(train({ ...base(await fresh('kd-train-')), labels: incomplete })).rejects.toThrow(/E_INCOMPLETE.*incomplete/);
  });

  it('refuses a vocabulary map built for another pair of tokenizers', async () => {
    const cacheDir = await fresh('kd-map-');
    const teacher = await loadTokenizer(teacherTokenizer);
    const student = await loadTokenizer(studentTokenizerPath);
    await buildVocabularyMap(student, teacher, { cacheDir });
    const map = vocabularyMapCachePath(cacheDir, student, teacher);
    await expect(train({ ...base(await fresh('kd-train-')), map })).rejects.toThrow(/vocabulary map: .*not this pair/);
  });

  it('refuses to resume with a student tokenizer that does not match the checkpoint', async () => {
    const out = await fresh('kd-train-');
    const controller = new AbortController();
    await train(base(out), { signal: controller.signal, onProgress: (progress) => progress.step === 1 && controller.abort() });
    const other = join(await fresh('kd-tok-'), 'tokenizer.json');
    const json = JSON.parse(await readFile(studentTokenizerPath, 'utf8'));
    json.added_tokens = [...(json.added_tokens ?? []), { id: 8000, content: '<extra>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
    await writeFile(other, JSON.stringify(json));
    await expect(train({ ...base(out), resume: true, studentTokenizer: other })).rejects.toMatchObject({ code: 'E_VOCAB_MISMATCH' });
  });
});
