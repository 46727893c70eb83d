import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCorpus, readCorpusRecords, type CorpusDocument } from './corpus.js';
import { TextError } from './errors.js';
import { sharedDir } from './test-tokenizers.js';

const devCorpus = join(sharedDir, 'corpus', 'dev.jsonl');

let dir: string;

async function collect(documents: AsyncIterable<CorpusDocument>): Promise<CorpusDocument[]> {
  const out: CorpusDocument[] = [];
  for await (const document of documents) out.push(document);
  return out;
}

async function errorOf(promise: Promise<unknown>): Promise<TextError> {
  try {
    await promise;
  } catch (error) {
    return error as TextError;
  }
  throw new Error('expected a TextError');
}

const records = [
  { id: 'sotu/1790', text: 'Fellow-Citizens of the Senate' },
  { task: 'code', id: 'py/json/decoder.py', lang: 'python', text: 'import re' },
  { task: 'classify', id: 'spam/1', input: 'Win money now', label: 'spam' },
  { task: 'translate', id: 'git/42', src: 'file not found', tgt: 'Datei nicht gefunden', src_lang: 'English', tgt_lang: 'German' },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-corpus-'));
  await writeFile(join(dir, 'tasks.jsonl'), records.map((record) => JSON.stringify(record)).join('\n') + '\n\n');
  await mkdir(join(dir, 'folder', 'nested'), { recursive: true });
  await writeFile(join(dir, 'folder', 'b.txt'), 'second file\nwith two lines');
  await writeFile(join(dir, 'folder', 'a.jsonl'), JSON.stringify({ text: 'first' }) + '\n');
  await writeFile(join(dir, 'folder', 'nested', 'c.jsonl'), JSON.stringify({ text: 'third' }) + '\n');
  await writeFile(join(dir, 'folder', 'ignored.md'), '# not corpus');
  await writeFile(join(dir, 'bad.jsonl'), JSON.stringify({ text: 'fine' }) + '\n{"text": broken\n');
  await writeFile(join(dir, 'wrong-shape.jsonl'), JSON.stringify({ task: 'classify', input: 'no label' }) + '\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readCorpus', () => {
  it('applies the prompt template of each of the four tasks', async () => {
    const documents = await collect(readCorpus(join(dir, 'tasks.jsonl')));
    expect(documents.map((document) => [document.index, document.task, document.id])).toEqual([
      [0, 'text', 'sotu/1790'],
      [1, 'code', 'py/json/decoder.py'],
      [2, 'classify', 'spam/1'],
      [3, 'translate', 'git/42'],
    ]);
    expect(documents[0].text).toBe('Fellow-Citizens of the Senate');
    // The code template drops the id's source prefix ("py/").
    expect(documents[1].text).toBe('# file: json/decoder.py\nimport re');
    expect(documents[2].text).toBe('Classify the email as spam or ham.\nWin money now\nLabel: spam');
    expect(documents[3].text).toBe('Translate English to German.\nEnglish: file not found\nGerman: Datei nicht gefunden');
  });

  it('hands each document its record beside the templated text (readCorpusRecords), and readCorpus leaves it out', async () => {
    const documents = [];
    for await (const document of readCorpusRecords(join(dir, 'tasks.jsonl'), { tasks: ['classify', 'translate'] })) documents.push(document);
    expect(documents.map((document) => [document.index, document.task])).toEqual([
      [2, 'classify'],
      [3, 'translate'],
    ]);
    expect(documents[0].record).toMatchObject({ task: 'classify', input: 'Win money now', label: 'spam' });
    expect(documents[1].record).toMatchObject({ task: 'translate', src: 'file not found', tgt: 'Datei nicht gefunden' });
    expect(documents[0].text).toBe('Classify the email as spam or ham.\nWin money now\nLabel: spam');
    const [plain] = await collect(readCorpus(join(dir, 'tasks.jsonl')));
    expect(Object.keys(plain).sort()).toEqual(['id', 'index', 'task', 'text']);
    const records = [];
    for await (const document of readCorpusRecords(join(dir, 'folder', 'b.txt'))) records.push(document.record);
    expect(records).toEqual([{ text: 'second file\nwith two lines' }]);
  });

  it('fills other languages into the translate template', async () => {
    const file = join(dir, 'french.jsonl');
    await writeFile(file, JSON.stringify({ task: 'translate', src: 'cat', tgt: 'chat', tgt_lang: 'French' }) + '\n');
    const [document] = await collect(readCorpus(file));
    expect(document.text).toBe('Translate English to French.\nEnglish: cat\nFrench: chat');
  });

  it('reads a .txt file as one document and a folder in sorted path order, recursively', async () => {
    const [text] = await collect(readCorpus(join(dir, 'folder', 'b.txt')));
    expect(text).toMatchObject({ index: 0, task: 'text', text: 'second file\nwith two lines' });
    const documents = await collect(readCorpus(join(dir, 'folder')));
    expect(documents.map((document) => document.text)).toEqual(['first', 'second file\nwith two lines', 'third']);
    expect(documents.map((document) => document.index)).toEqual([0, 1, 2]);
    expect(documents[0].id).toBe(`${join(dir, 'folder', 'a.jsonl')}:1`);
  });

  it('filters tasks without renumbering, and stops at the limit', async () => {
    const filtered = await collect(readCorpus(join(dir, 'tasks.jsonl'), { tasks: ['classify', 'translate'] }));
    expect(filtered.map((document) => document.index)).toEqual([2, 3]);
    const limited = await collect(readCorpus(join(dir, 'tasks.jsonl'), { tasks: ['code', 'translate'], limit: 1 }));
    expect(limited.map((document) => document.id)).toEqual(['py/json/decoder.py']);
    expect(await collect(readCorpus(join(dir, 'tasks.jsonl'), { limit: 0 }))).toEqual([]);
  });

  it('names the file and line of a line that is not JSON, or not a known record', async () => {
    const broken = await errorOf(collect(readCorpus(join(dir, 'bad.jsonl'))));
    expect(broken).toBeInstanceOf(TextError);
    expect(broken.code).toBe('E_CORPUS_FORMAT');
    expect(broken.message).toContain(`${join(dir, 'bad.jsonl')}:2`);
    const shape = await errorOf(collect(readCorpus(join(dir, 'wrong-shape.jsonl'))));
    expect(shape.code).toBe('E_CORPUS_FORMAT');
    expect(shape.message).toContain('wrong-shape.jsonl:1');
  });

  it('reports a missing corpus and a folder without corpus files', async () => {
    expect((await errorOf(collect(readCorpus(join(dir, 'missing.jsonl'))))).code).toBe('E_CORPUS_NOT_FOUND');
    await mkdir(join(dir, 'empty'), { recursive: true });
    expect((await errorOf(collect(readCorpus(join(dir, 'empty'))))).code).toBe('E_CORPUS_NOT_FOUND');
    expect((await errorOf(collect(readCorpus(join(dir, 'tasks.jsonl'), { limit: -1 })))).code).toBe('E_OPTIONS');
    const unknownTask = await errorOf(collect(readCorpus(join(dir, 'tasks.jsonl'), { tasks: ['poetry' as never] })));
    expect(unknownTask.code).toBe('E_OPTIONS');
    expect(unknownTask.message).toContain('poetry');
  });

  it('refuses invalid UTF-8 in a JSON line and a binary .txt, naming file and line, instead of decoding U+FFFD', async () => {
    const jsonl = join(dir, 'latin1.jsonl');
    await writeFile(jsonl, Buffer.concat([Buffer.from(JSON.stringify({ text: 'fine' }) + '\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    const latin1 = await errorOf(collect(readCorpus(jsonl)));
    expect(latin1.code).toBe('E_CORPUS_ENCODING');
    expect(latin1.message).toContain(`${jsonl}:2: not valid UTF-8`);
    // A real U+FFFD written as UTF-8 is text and stays.
    const replacement = join(dir, 'replacement.jsonl');
    await writeFile(replacement, JSON.stringify({ text: 'a\uFFFDb' }) + '\n');
    expect((await collect(readCorpus(replacement)))[0]!.text).toBe('a\uFFFDb');

    const binary = join(dir, 'binary', 'image.txt');
    await mkdir(join(dir, 'binary'), { recursive: true });
    await writeFile(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
    const notText = await errorOf(collect(readCorpus(join(dir, 'binary'))));
    expect(notText.code).toBe('E_CORPUS_ENCODING');
    expect(notText.message).toContain(`${binary}:1`);
    await writeFile(binary, 'line one\nline two\0\n');
    expect((await errorOf(collect(readCorpus(binary)))).message).toContain(`${binary}:2: holds a NUL byte`);
  });

  it('refuses an empty corpus and one its task filter leaves empty', async () => {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '\n\n');
    const none = await errorOf(collect(readCorpus(empty)));
    expect(none.code).toBe('E_CORPUS_EMPTY');
    expect(none.message).toContain(empty);
    const filtered = await errorOf(collect(readCorpus(join(dir, 'folder'), { tasks: ['translate'] })));
    expect(filtered.code).toBe('E_CORPUS_EMPTY');
    expect(filtered.message).toMatch(/holds 3 documents, none of task translate/);
  });

  it('reads the shared dev corpus, all four tasks present', async () => {
    const tasks = new Set<string>();
    for await (const document of readCorpus(devCorpus)) tasks.add(document.task);
    expect([...tasks].sort()).toEqual(['classify', 'code', 'text', 'translate']);
  });
});
