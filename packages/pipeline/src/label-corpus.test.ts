import { describe, expect, it } from 'vitest';
import { labelCorpus } from './label-corpus.js';
import type { LabelOptionsInput } from './label-options.js';

describe('labelCorpus options', () => {
  it('refuses unknown options by their library names', async () => {
    const input = { teacher: 't', corpus: 'c', out: 'o', mode: 'fixed', k: 8 } as unknown as LabelOptionsInput;
    await expect(labelCorpus(input)).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('`mode`, `k`') });
    const nested = { teacher: 't', corpus: 'c', out: 'o', compression: { mode: 'fixed', k: 8, p: 0.9 } } as unknown as LabelOptionsInput;
    await expect(labelCorpus(nested)).rejects.toMatchObject({ code: 'E_OPTIONS', message: expect.stringContaining('`compression.p`') });
  });

  it('names a missing corpus by the option', async () => {
    await expect(labelCorpus({ teacher: 't', corpus: '/nonexistent/corpus.jsonl', out: 'o' })).rejects.toMatchObject({
      code: 'E_CORPUS',
      message: expect.stringMatching(/^`corpus` \/nonexistent\/corpus\.jsonl does not exist/),
    });
  });
});
