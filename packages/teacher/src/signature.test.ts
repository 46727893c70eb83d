import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TeacherError } from './errors.js';
import { loadTeacher } from './teacher.js';
import { tableModel, teacherFolder } from './test-models.js';

const folders: string[] = [];
async function folderWith(model: Uint8Array): Promise<string> {
  const dir = await teacherFolder(model);
  folders.push(dir);
  return dir;
}

async function loadError(dir: string): Promise<TeacherError> {
  try {
    await loadTeacher(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(TeacherError);
    return error as TeacherError;
  }
  throw new Error(`expected loading ${dir} to fail`);
}

afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

describe('model signature', () => {
  it('refuses a model without input_ids, naming the inputs it found and what it expected', async () => {
    const error = await loadError(await folderWith(tableModel({ vocab: 8, idsName: 'tokens' })));
    expect(error.code).toBe('E_MODEL_INPUTS');
    expect(error.message).toContain('tokens (int32 [batch, sequence])');
    expect(error.message).toContain('expected input_ids');
  });

  it('refuses a model without a logits output, naming the outputs it found', async () => {
    const error = await loadError(await folderWith(tableModel({ vocab: 8, logitsName: 'scores' })));
    expect(error.code).toBe('E_MODEL_OUTPUTS');
    expect(error.message).toContain('scores (float32 [batch, sequence, 8])');
  });

  it('says where it looked when the folder holds no model, and when the bytes are not ONNX', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'kd-empty-'));
    folders.push(empty);
    const missing = await loadError(empty);
    expect(missing.code).toBe('E_MODEL_NOT_FOUND');
    expect(missing.message).toContain(join(empty, 'onnx', 'model.onnx'));
    const garbage = await loadError(await folderWith(new TextEncoder().encode('definitely not protobuf \u0000\u0001\u0002')));
    expect(garbage.code).toBe('E_MODEL_FORMAT');
  });
});
