import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '@kd/text';
import { AlignError } from './errors.js';
import { buildVocabularyMap } from './map-cache.js';
import { tokenizerNamed, type TokenizerName } from '@kd/text/testing';
import { createVocabularyMap, MatchKind, type VocabularyMap } from './vocabulary-map.js';

const maps = new Map<string, Promise<VocabularyMap>>();
function mapOf(teacher: TokenizerName, student: TokenizerName): Promise<VocabularyMap> {
  const key = `${teacher}→${student}`;
  if (!maps.has(key)) maps.set(key, (async () => buildVocabularyMap(await tokenizerNamed(teacher), await tokenizerNamed(student)))());
  return maps.get(key)!;
}

function isPrefix(prefix: Uint8Array, bytes: Uint8Array): boolean {
  return prefix.length <= bytes.length && Buffer.from(prefix).equals(Buffer.from(bytes.subarray(0, prefix.length)));
}

describe('identity when teacher = student', () => {
  for (const name of ['llama2', 'qwen3', 'student'] as const) {
    it(`${name} → ${name} maps every id to itself`, async () => {
      const map = await mapOf(name, name);
      const moved: number[] = [];
      for (let id = 0; id < map.teacherToStudent.length; id++) if (map.teacherToStudent[id] !== id) moved.push(id);
      expect(moved).toEqual([]);
    });
  }

  it('the shared teacher and the npm Llama-2 tokenizer are the same vocabulary', async () => {
    const map = await mapOf('teacher', 'llama2');
    expect(map.teacherToStudent).toEqual(Int32Array.from({ length: 32000 }, (_, id) => id));
  });
});

const pairs: [TokenizerName, TokenizerName][] = [
  ['teacher', 'student'],
  ['llama2', 'qwen3'],
  ['llama2', 'gpt4o'],
  ['qwen3', 'llama2'],
];

describe.each(pairs)('%s → %s', (teacherName, studentName) => {
  it('maps every teacher id to a valid student id', async () => {
    const map = await mapOf(teacherName, studentName);
    const { teacher, student } = map;
    expect(map.isComplete).toBe(true);
    const invalid: number[] = [];
    for (let id = 0; id < teacher.vocabSize; id++) {
      if (teacher.token(id) === undefined) {
        expect(map.matchKind[id]).toBe(MatchKind.absent);
        continue;
      }
      const target = map.teacherToStudent[id];
      if (!(target >= 0 && target < student.vocabSize && student.token(target) !== undefined)) invalid.push(id);
    }
    expect(invalid).toEqual([]);
  });

  it('maps special tokens to special tokens, and document markers to their counterparts', async () => {
    const map = await mapOf(teacherName, studentName);
    const { teacher, student } = map;
    for (let id = 0; id < teacher.vocabSize; id++) {
      if (!teacher.isSpecial(id)) continue;
      expect(map.matchKind[id], teacher.token(id)).toBe(MatchKind.special);
      expect(student.isSpecial(map.teacherToStudent[id]), `${teacher.token(id)} → ${student.token(map.teacherToStudent[id])}`).toBe(true);
    }
    if (teacher.roles.eos !== undefined && student.roles.eos !== undefined) expect(map.studentId(teacher.roles.eos)).toBe(student.roles.eos);
  });

  it('maps exactly only byte-identical tokens, and otherwise to the first piece of the text', async () => {
    const map = await mapOf(teacherName, studentName);
    const { teacher, student } = map;
    let exact = 0;
    let viaTokenizer = 0;
    for (let id = 0; id < teacher.vocabSize; id++) {
      const target = map.teacherToStudent[id];
      if (map.matchKind[id] === MatchKind.exact) {
        exact++;
        expect(Buffer.from(student.tokenBytes(target)).equals(Buffer.from(teacher.tokenBytes(id)))).toBe(true);
      } else if (map.matchKind[id] === MatchKind.tokenizer) {
        viaTokenizer++;
        // The first piece begins the text: its bytes are a proper prefix of the teacher token's.
        expect(isPrefix(student.tokenBytes(target), teacher.tokenBytes(id)), `${teacher.token(id)} → ${student.token(target)}`).toBe(true);
        expect(student.tokenBytes(target).length).toBeLessThan(teacher.tokenBytes(id).length);
      }
    }
    expect(exact).toBeGreaterThan(0);
    expect(viaTokenizer).toBeGreaterThan(0);
  });
});

describe('mapping across families', () => {
  it('matches tokens by bytes, not raw spelling: SentencePiece ▁the is byte-level Ġthe', async () => {
    const map = await mapOf('llama2', 'qwen3');
    const { teacher, student } = map;
    expect(student.token(map.studentId(teacher.idOfToken('▁the')!))).toBe('Ġthe');
    expect(student.token(map.studentId(teacher.idOfToken('<0x0A>')!))).toBe('Ċ');
    expect(map.matchKind[teacher.idOfToken('▁the')!]).toBe(MatchKind.exact);
  });

  it('maps a byte-level piece that starts inside a character to the student token of its first byte', async () => {
    const map = await mapOf('qwen3', 'llama2');
    const { teacher, student } = map;
    // "Ń" alone is the byte 0xAD: a continuation byte, no text on its own.
    const continuation = teacher.idOfToken('Ń')!;
    expect(Array.from(teacher.tokenBytes(continuation))).toEqual([0xad]);
    expect(student.token(map.studentId(continuation))).toBe('<0xAD>');
  });
});

describe('lazy maps', () => {
  it('map only the ids asked for, the same way as the whole map', async () => {
    const teacher = await tokenizerNamed('llama2');
    const student = await tokenizerNamed('gpt4o');
    const lazy = createVocabularyMap(teacher, student);
    const whole = await mapOf('llama2', 'gpt4o');
    const ids = Uint32Array.from([2, 1, 415, 8463, 302, 272, 2969, 3543, 4579, 31999, 260, 30575, 28705]);
    expect(() => lazy.studentId(415)).toThrowError(AlignError);
    await lazy.ensure(ids);
    expect(lazy.isComplete).toBe(false);
    for (const id of ids) {
      expect(lazy.studentId(id)).toBe(whole.teacherToStudent[id]);
      expect(lazy.matchKind[id]).toBe(whole.matchKind[id]);
    }
    expect(lazy.matchKind[100]).toBe(MatchKind.pending);
    await expect(lazy.ensure([32000])).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});

describe('disk cache', () => {
  it('stores the whole map under both sha256 and reads the same map back', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'kd-vocab-map-'));
    const teacher = await tokenizerNamed('teacher');
    const student = await tokenizerNamed('student');
    const built = await buildVocabularyMap(teacher, student, { cacheDir });
    const files = await readdir(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toContain(teacher.sha256);
    expect(files[0]).toContain(student.sha256);
    const read = await buildVocabularyMap(teacher, student, { cacheDir });
    expect(read.teacherToStudent).toEqual(built.teacherToStudent);
    expect(read.matchKind).toEqual(built.matchKind);

    // A damaged cache is refused with the file to delete, not silently used.
    const path = join(cacheDir, files[0]);
    const cached = JSON.parse(await readFile(path, 'utf8'));
    const ids = Buffer.from(cached.teacherToStudent, 'base64');
    ids.writeInt32LE(99_999, 4 * 500);
    await writeFile(path, JSON.stringify({ ...cached, teacherToStudent: ids.toString('base64') }));
    await expect(buildVocabularyMap(teacher, student, { cacheDir })).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringContaining(path) });
  });
});

describe('a Metaspace SentencePiece student', () => {
  it('maps text by the token that begins it as it stands, without the marker the tokenizer prepends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-metaspace-'));
    const path = join(dir, 'tokenizer.json');
    const vocab = { '<unk>': 0, '▁': 1, t: 2, h: 3, e: 4, '▁t': 5, '▁th': 6, '▁the': 7, th: 8, the: 9, '<0x41>': 10 };
    await writeFile(
      path,
      JSON.stringify({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        post_processor: null,
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: ['▁ t', '▁t h', '▁th e', 't h', 'th e'] },
      }),
    );
    const student = await loadTokenizer(path);
    const teacher = await tokenizerNamed('student');
    const map = createVocabularyMap(teacher, student);
    const there = teacher.idOfToken('ther')!;
    const spaceThere = teacher.idOfToken('Ġthere')!;
    await map.ensure([there, spaceThere, teacher.idOfToken('the')!, teacher.idOfToken('A')!]);
    // "ther" begins with "the", not " the": mapping encodes the text without the prepended marker.
    expect(student.token(map.studentId(there))).toBe('the');
    expect(student.token(map.studentId(spaceThere))).toBe('▁the');
    expect(map.matchKind[teacher.idOfToken('the')!]).toBe(MatchKind.exact);
    expect(student.token(map.studentId(teacher.idOfToken('A')!))).toBe('<0x41>');
  });
});
