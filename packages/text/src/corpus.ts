// Reads a corpus (JSON Lines with task shapes, plain text files, or a folder of them) as a
// stream of documents with the task templates applied. Order is stable: the document index is
// what resumable labelling and training count by.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TextError } from './errors.js';
import { applyTemplate, codePath, corpusTasks, type CorpusTask } from './templates.js';

export interface CorpusDocument {
  /** Position in corpus order, counting from 0. */
  index: number;
  id: string;
  task: CorpusTask;
  /** The text the model reads: the task's prompt template applied to the record. */
  text: string;
}

/** A document with the record it was made from (a .txt file reads as a text record): fields such as a label or a reference translation. */
export interface CorpusRecordDocument extends CorpusDocument {
  record: CorpusRecord;
}

export interface ReadCorpusOptions {
  /** Keep only these tasks (documents of other tasks are skipped but still counted in `index`). */
  tasks?: readonly CorpusTask[];
  /** Stop after this many documents (after task filtering). */
  limit?: number;
}

const textRecord = z.object({ task: z.literal('text').optional(), id: z.string().optional(), text: z.string() });
const codeRecord = z.object({ task: z.literal('code'), id: z.string(), lang: z.string().optional(), text: z.string() });
const classifyRecord = z.object({ task: z.literal('classify'), id: z.string().optional(), input: z.string(), label: z.string() });
const translateRecord = z.object({
  task: z.literal('translate'),
  id: z.string().optional(),
  src: z.string(),
  tgt: z.string(),
  src_lang: z.string().optional(),
  tgt_lang: z.string().optional(),
});
const corpusRecord = z.union([codeRecord, classifyRecord, translateRecord, textRecord]);

/** One record of a .jsonl corpus, as validated. */
export type CorpusRecord = z.infer<typeof corpusRecord>;

/** The task and model text of a validated record. */
export function recordText(record: CorpusRecord): { task: CorpusTask; text: string } {
  switch (record.task) {
    case 'code':
      return { task: 'code', text: applyTemplate('code', { path: codePath(record.id), text: record.text }) };
    case 'classify':
      return { task: 'classify', text: applyTemplate('classify', record) };
    case 'translate':
      return { task: 'translate', text: applyTemplate('translate', record) };
    default:
      return { task: 'text', text: applyTemplate('text', record) };
  }
}

/** The files a corpus path stands for, in reading order (a file, or a folder's .jsonl and .txt files, sorted). */
export async function corpusFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new TextError('E_CORPUS_NOT_FOUND', `corpus ${path} does not exist; pass a .jsonl file, a .txt file or a folder of them`, { cause });
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && /\.(jsonl|txt)$/i.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  if (files.length === 0) {
    throw new TextError('E_CORPUS_NOT_FOUND', `corpus folder ${path} holds no .jsonl or .txt files`);
  }
  return files;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8 and refuses what is not text: invalid sequences and NUL bytes, named by file and line. */
function decodeText(bytes: Uint8Array, file: string, firstLine: number): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch (cause) {
    // Find the line of the first bad sequence: the longest prefix that decodes ends just before it.
    let good = 0;
    let bad = bytes.length;
    while (good < bad) {
      const middle = Math.ceil((good + bad) / 2);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, middle), { stream: true });
        good = middle;
      } catch {
        bad = middle - 1;
      }
    }
    let line = firstLine;
    for (let i = 0; i < good; i++) if (bytes[i] === 0x0a) line++;
    throw new TextError('E_CORPUS_ENCODING', `${file}:${line}: not valid UTF-8 (byte ${good}); save the file as UTF-8 text`, { cause });
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    let line = firstLine;
    for (let i = 0; i < nul; i++) if (text.charCodeAt(i) === 0x0a) line++;
    throw new TextError('E_CORPUS_ENCODING', `${file}:${line}: holds a NUL byte, so it is a binary file, not text; remove it from the corpus`);
  }
  return text;
}

/** The lines of a file as raw bytes (memory bounded), numbered from 1, without the line break. */
async function* byteLines(file: string): AsyncGenerator<{ bytes: Uint8Array; lineNumber: number }> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let newline = pending.indexOf(0x0a, start); newline >= 0; newline = pending.indexOf(0x0a, start)) {
      const end = newline > start && pending[newline - 1] === 0x0d ? newline - 1 : newline;
      yield { bytes: pending.subarray(start, end), lineNumber: ++lineNumber };
      start = newline + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) yield { bytes: pending, lineNumber: ++lineNumber };
}

async function* documentsOfFile(file: string): AsyncGenerator<{ id: string; task: CorpusTask; text: string; record: CorpusRecord }> {
  if (/\.txt$/i.test(file)) {
    const text = decodeText(await readFile(file), file, 1);
    yield { id: file, task: 'text', text, record: { text } };
    return;
  }
  for await (const { bytes, lineNumber } of byteLines(file)) {
    const line = decodeText(bytes, file, lineNumber);
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (cause) {
      throw new TextError('E_CORPUS_FORMAT', `${file}:${lineNumber}: not valid JSON; each line must be one JSON object`, { cause });
    }
    const record = corpusRecord.safeParse(parsed);
    if (!record.success) {
      throw new TextError(
        'E_CORPUS_FORMAT',
        `${file}:${lineNumber}: expected {text} or a task record (code: id+text, classify: input+label, translate: src+tgt); ${record.error.issues[0]?.message ?? 'invalid record'}`,
      );
    }
    const { task, text } = recordText(record.data);
    yield { id: record.data.id ?? `${file}:${lineNumber}`, task, text, record: record.data };
  }
}

/** Streams the documents of a corpus path in a stable order; memory stays bounded on any size. */
export async function* readCorpus(path: string, options: ReadCorpusOptions = {}): AsyncGenerator<CorpusDocument> {
  for await (const { index, id, task, text } of readCorpusRecords(path, options)) yield { index, id, task, text };
}

/** readCorpus with each document's validated record beside it (evaluation reads labels and references from it). */
export async function* readCorpusRecords(path: string, options: ReadCorpusOptions = {}): AsyncGenerator<CorpusRecordDocument> {
  const limit = options.limit ?? Infinity;
  if (!(limit >= 0)) throw new TextError('E_OPTIONS', `limit must be a non-negative number, got ${options.limit}`);
  const unknown = options.tasks?.find((task) => !(corpusTasks as readonly string[]).includes(task));
  if (unknown !== undefined) throw new TextError('E_OPTIONS', `tasks: unknown task ${JSON.stringify(unknown)}; expected some of ${corpusTasks.join(', ')}`);
  const wanted = options.tasks ? new Set(options.tasks) : undefined;
  let index = 0;
  let emitted = 0;
  if (emitted >= limit) return;
  for (const file of await corpusFiles(path)) {
    for await (const document of documentsOfFile(file)) {
      const current = index++;
      if (wanted && !wanted.has(document.task)) continue;
      yield { index: current, ...document };
      if (++emitted >= limit) return;
    }
  }
  // A corpus that yields nothing would label or train on nothing and still report success.
  if (emitted === 0) {
    throw new TextError(
      'E_CORPUS_EMPTY',
      index === 0
        ? `corpus ${path} holds no documents (its files are empty or hold only blank lines)`
        : `corpus ${path} holds ${index} documents, none of task ${options.tasks!.join(', ')}; choose tasks it holds`,
    );
  }
}
