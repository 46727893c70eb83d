// The tokenizer files of an export besides tokenizer.json, as Hugging Face writes them for a
// Llama: tokenizer_config.json (special tokens by name, every added token under its id in
// `added_tokens_decoder`, left padding for batched generation) and special_tokens_map.json.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TrainerError } from './errors.js';

/** The transformers release whose Llama layout (config.json keys, tokenizer files) the export follows. */
export const transformersVersion = '4.46.0';

const addedTokenSchema = z.object({
  id: z.number().int(),
  content: z.string(),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(false),
  special: z.boolean().default(false),
});
const tokenizerSchema = z.object({ added_tokens: z.array(addedTokenSchema).default([]) });

/** The special tokens of the document roles (from @kd/text's resolution), by id and content. */
export type SpecialTokens = Partial<Record<'bos' | 'eos' | 'unk' | 'pad', { id: number; content: string }>>;

export interface TokenizerFiles {
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, unknown>;
}

export async function tokenizerFiles(tokenizerPath: string, special: SpecialTokens, maxPositions: number): Promise<TokenizerFiles> {
  let added: z.infer<typeof addedTokenSchema>[];
  try {
    added = tokenizerSchema.parse(JSON.parse(await readFile(tokenizerPath, 'utf8'))).added_tokens;
  } catch (cause) {
    throw new TrainerError('E_TOKENIZER', `${tokenizerPath}: expected a Hugging Face tokenizer.json with added_tokens`, { cause });
  }
  const addedTokensDecoder: Record<string, Omit<z.infer<typeof addedTokenSchema>, 'id'>> = {};
  for (const { id, ...token } of added) addedTokensDecoder[String(id)] = token;
  const entry = (role: keyof SpecialTokens) => {
    const token = special[role];
    if (!token) return undefined;
    const found = added.find((candidate) => candidate.id === token.id);
    return { content: token.content, lstrip: found?.lstrip ?? false, normalized: found?.normalized ?? false, rstrip: found?.rstrip ?? false, single_word: found?.single_word ?? false };
  };
  const specialTokensMap: Record<string, unknown> = {};
  for (const role of ['bos', 'eos', 'unk', 'pad'] as const) {
    const token = entry(role);
    if (token) specialTokensMap[`${role}_token`] = token;
  }
  return {
    tokenizerConfig: {
      add_bos_token: special.bos !== undefined,
      add_eos_token: false,
      added_tokens_decoder: addedTokensDecoder,
      bos_token: special.bos?.content ?? null,
      clean_up_tokenization_spaces: false,
      eos_token: special.eos?.content ?? null,
      legacy: false,
      model_max_length: maxPositions,
      pad_token: special.pad?.content ?? null,
      // Generation continues the last token of every row, so a batch is padded on the left
      // (the LlamaTokenizer default); right padding would put pads between prompt and output.
      padding_side: 'left',
      tokenizer_class: 'PreTrainedTokenizerFast',
      unk_token: special.unk?.content ?? null,
    },
    specialTokensMap,
  };
}
