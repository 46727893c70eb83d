// Finds a tokenizer's document markers (begin / end / unknown / padding) among its added tokens,
// under the names the common tokenizer families use.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TrainerError } from './errors.js';

export interface SpecialTokens {
  bos?: { id: number; content: string };
  eos?: { id: number; content: string };
  unk?: { id: number; content: string };
  pad?: { id: number; content: string };
}

const tokenizerFileSchema = z.object({
  added_tokens: z.array(z.object({ id: z.number().int(), content: z.string(), special: z.boolean().optional() })).default([]),
  model: z.object({ type: z.string().optional(), unk_token: z.string().nullish() }).passthrough(),
});

const beginNames = ['<s>', '<|begin_of_text|>', '<|bos|>', '<bos>', '<|startoftext|>'];
const endNames = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<|eos|>', '<eos>', '<|im_end|>'];
const unknownNames = ['<unk>', '<|unk|>', '[UNK]'];
const paddingNames = ['<pad>', '<|pad|>', '[PAD]'];

/** Reads `tokenizer.json` and names its special tokens; a tokenizer without an end marker is refused. */
export async function readSpecialTokens(tokenizerPath: string): Promise<SpecialTokens> {
  let parsed: z.infer<typeof tokenizerFileSchema>;
  try {
    parsed = tokenizerFileSchema.parse(JSON.parse(await readFile(tokenizerPath, 'utf8')));
  } catch (cause) {
    throw new TrainerError('E_TOKENIZER', `${tokenizerPath}: expected a Hugging Face tokenizer.json with added_tokens and model`, { cause });
  }
  const find = (names: string[]) => {
    for (const name of names) {
      const token = parsed.added_tokens.find((candidate) => candidate.content === name);
      if (token) return { id: token.id, content: token.content };
    }
    return undefined;
  };
  const tokens: SpecialTokens = { bos: find(beginNames), eos: find(endNames), unk: find(unknownNames), pad: find(paddingNames) };
  if (!tokens.eos) {
    throw new TrainerError(
      'E_TOKENIZER',
      `${tokenizerPath}: no end-of-document token among its added tokens (looked for ${endNames.join(', ')}); add one so documents can be separated`,
    );
  }
  return tokens;
}
