import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferError } from './errors.js';
import { readSignature } from './signature.js';
import { tinyWithPastModel } from './test-fixtures.js';

let session: InferenceSession;
beforeAll(async () => {
  session = await InferenceSession.create(tinyWithPastModel);
});
afterAll(async () => {
  await session.release();
});

describe('readSignature on an onnxruntime session', () => {
  it('pairs each past_key_values input of a Hugging Face export with the present output fed back next step', () => {
    const signature = readSignature(session, tinyWithPastModel);
    expect(signature.inputIds).toEqual({ name: 'input_ids', type: 'int64' });
    expect(signature.positionIds).toEqual({ name: 'position_ids', type: 'int64' });
    expect(signature.cache.map((slot) => [slot.input, slot.output])).toEqual([
      ['past_key_values.0.key', 'present.0.key'],
      ['past_key_values.0.value', 'present.0.value'],
      ['past_key_values.1.key', 'present.1.key'],
      ['past_key_values.1.value', 'present.1.value'],
    ]);
    expect(signature.cache[0]).toMatchObject({ type: 'float32', heads: 2, headDim: 16 });
    expect(signature.logits).toEqual({ name: 'logits', type: 'float32' });
    expect(signature.vocabSize).toBe(32000);
    expect(signature.logitsFrom).toBeUndefined();
  });

  it('refuses as E_MODEL_SIGNATURE a cache it could not feed back, naming the missing output and how to export', () => {
    const withoutPresent = { inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata.filter((output) => output.name !== 'present.1.value') };
    let error: unknown;
    try {
      readSignature(withoutPresent, tinyWithPastModel);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InferError);
    expect((error as InferError).code).toBe('E_MODEL_SIGNATURE');
    expect((error as InferError).message).toContain(`${tinyWithPastModel}: cache input past_key_values.1.value has no matching output present.1.value`);
    expect((error as InferError).message).toContain('optimum-cli export onnx');
  });
});
