// Reads a corpus (JSON Lines with task shapes, plain text files, or a folder of them) as a
// stream of documents with the task templates applied. Order is stable: the document index is
// what resumable labelling and training count by.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

async function corpusFiles(path: string): Promise<string[]> {
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

async function* documentsOfFile(file: string): AsyncGenerator<{ id: string; task: CorpusTask; text: string }> {
  if (/\.txt$/i.test(file)) {
    yield { id: file, task: 'text', text: await readFile(file, 'utf8') };
    return;
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
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
    yield { id: record.data.id ?? `${file}:${lineNumber}`, task, text };
  }
}

/** Streams the documents of a corpus path in a stable order; memory stays bounded on any size. */
export async function* readCorpus(path: string, options: ReadCorpusOptions = {}): AsyncGenerator<CorpusDocument> {
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
}
