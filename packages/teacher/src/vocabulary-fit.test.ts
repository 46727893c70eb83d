import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextError } from '@kd/text';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTeacher } from './teacher.js';
import { tableModel, teacherFolder, wordTokenizerJson } from './test-models.js';
import { teacherDir } from './test-fixtures.js';

const studentTokenizer = fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url));
const folders: string[] = [];
afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

async function loadError(dir: string, options = {}): Promise<TextError> {
  try {
    const teacher = await loadTeacher(dir, options);
    await teacher.close();
  } catch (error) {
    expect(error).toBeInstanceOf(TextError);
    return error as TextError;
  }
  throw new Error(`expected loading ${dir} to fail`);
}

describe('a tokenizer that does not fit the model', () => {
  it('is refused when its ids reach beyond the logits', async () => {
    const dir = await teacherFolder(tableModel({ vocab: 16 }), 16);
    folders.push(dir);
    await writeFile(join(dir, 'tokenizer.json'), wordTokenizerJson(20));
    const error = await loadError(dir);
    expect(error.code).toBe('E_VOCAB_MISMATCH');
    expect(error.message).toContain('vocabulary size 20');
    expect(error.message).toContain('16 logits');
  });

  it('is refused when it is a smaller model\'s: the 32000-logit teacher with the 8000-token student tokenizer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-teacher-mismatch-'));
    folders.push(dir);
    await symlink(join(teacherDir, 'model.onnx'), join(dir, 'model.onnx'));
    await copyFile(studentTokenizer, join(dir, 'tokenizer.json'));
    const error = await loadError(dir);
    expect(error.code).toBe('E_VOCAB_MISMATCH');
    expect(error.message).toContain('32000 logits');
    expect(error.message).toContain('vocabulary of 8000');
  });

  it('accepts embedding padding within maxVocabPadding', async () => {
    const dir = await teacherFolder(tableModel({ vocab: 16 }), 12);
    folders.push(dir);
    const teacher = await loadTeacher(dir, { threads: 1 });
    expect(teacher.vocabSize).toBe(16);
    expect(teacher.tokenizer.vocabSize).toBe(12);
    await teacher.close();
    expect((await loadError(dir, { maxVocabPadding: 2 })).code).toBe('E_VOCAB_MISMATCH');
  });
});
