// The teacher's tokenizer: a Hugging Face tokenizer.json run by the `tokenizers` binding, with
// its character offsets converted to UTF-16 code units (what JavaScript strings index by) and
// the special tokens the teacher saw around every training document.
import { Tokenizer } from 'tokenizers';
import { TeacherError } from './errors.js';

export interface EncodedText {
  /** Token ids, without special tokens. */
  ids: Uint32Array;
  /** 2 × ids.length: [start, end) of each token in the text, UTF-16 code units. */
  offsets: Uint32Array;
}

export interface TeacherTokenizer {
  /** Tokenizes `text` as is: no BOS or EOS is added (labelling adds them). */
  encode(text: string): Promise<EncodedText>;
  /** The text of `ids`, special tokens included. */
  decode(ids: ArrayLike<number>): Promise<string>;
  idToToken(id: number): string | undefined;
  /** Tokens including added (special) tokens. */
  readonly vocabSize: number;
  readonly bosId?: number;
  readonly eosId?: number;
}

export interface SpecialTokenHints {
  bosId?: number;
  eosId?: number;
}

// Names the common tokenizer families give their begin/end-of-document tokens, tried when
// neither config.json nor tokenizer_config.json names them.
const bosNames = ['<s>', '<|begin_of_text|>', '<bos>', '<|endoftext|>'];
const eosNames = ['</s>', '<|end_of_text|>', '<eos>', '<|endoftext|>'];

/**
 * The binding reports offsets in Unicode code points; JavaScript strings count UTF-16 code
 * units, which differ after any character outside the Basic Multilingual Plane (emoji, 𝔘).
 * Returns utf16[i] = UTF-16 index of code point i, or undefined when the two coincide.
 */
function codePointToUtf16(text: string): Uint32Array | undefined {
  if (!/[\uD800-\uDFFF]/.test(text)) return undefined;
  const table = new Uint32Array(text.length + 1);
  let codePoint = 0;
  let unit = 0;
  while (unit < text.length) {
    table[codePoint++] = unit;
    const code = text.charCodeAt(unit);
    const isPair = code >= 0xd800 && code <= 0xdbff && unit + 1 < text.length && (text.charCodeAt(unit + 1) & 0xfc00) === 0xdc00;
    unit += isPair ? 2 : 1;
  }
  table[codePoint] = unit;
  return table.subarray(0, codePoint + 1);
}

function firstKnown(tokenizer: Tokenizer, names: readonly string[]): number | undefined {
  for (const name of names) {
    const id = tokenizer.tokenToId(name);
    if (id !== null && id !== undefined) return id;
  }
  return undefined;
}

/** Loads `tokenizer.json`; `hints` carry the BOS/EOS ids from the model's config when known. */
export function loadTokenizer(path: string, hints: SpecialTokenHints = {}): TeacherTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromFile(path);
  } catch (cause) {
    throw new TeacherError('E_TOKENIZER_FORMAT', `${path}: not a Hugging Face tokenizer.json the tokenizers library can read (${(cause as Error).message}); export it with transformers' save_pretrained`, { cause });
  }
  const vocabSize = tokenizer.getVocabSize(true);
  const bosId = hints.bosId ?? firstKnown(tokenizer, bosNames);
  const eosId = hints.eosId ?? firstKnown(tokenizer, eosNames);
  return {
    vocabSize,
    bosId,
    eosId,
    async encode(text: string): Promise<EncodedText> {
      const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
      const rawIds = encoding.getIds();
      const rawOffsets = encoding.getOffsets();
      const ids = Uint32Array.from(rawIds);
      const offsets = new Uint32Array(2 * rawIds.length);
      const table = codePointToUtf16(text);
      for (let i = 0; i < rawOffsets.length; i++) {
        const [start, end] = rawOffsets[i];
        offsets[2 * i] = table ? table[start] : start;
        offsets[2 * i + 1] = table ? table[end] : end;
      }
      return { ids, offsets };
    },
    decode(ids: ArrayLike<number>): Promise<string> {
      return tokenizer.decode(Array.from(ids), false);
    },
    idToToken(id: number): string | undefined {
      return tokenizer.idToToken(id) ?? undefined;
    },
  };
}
