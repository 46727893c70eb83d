// Builds the example student tokenizer, examples/student-tokenizer/: a byte-level BPE of 8,000
// tokens learned on the training corpus with the teacher's prompt templates applied. A CPU-trained
// student cannot afford the teacher's 32k-row output layer, so the student gets its own, smaller
// vocabulary, and @kd/vocab-align maps the teacher's distributions onto it.
//
//   npx tsx tools/make-student-tokenizer.ts [--corpus ../shared/corpus/train.jsonl] [--size 8000] [--out examples/student-tokenizer]
//
// BPE learns merges greedily, most frequent first, so the first N merges of one training run
// are the N-merge tokenizer: the script trains once with the `tokenizers` library and keeps the
// 256 byte tokens, three special tokens and the first (size − 259) merges. The same corpus gives
// the same file, byte for byte.
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCorpus } from '../packages/text/src/corpus.js';

// The binding is a dependency of @kd/text, not of the repository root.
const requireFromText = createRequire(new URL('../packages/text/package.json', import.meta.url));
interface TrainableTokenizer {
  train(files: string[]): void;
  save(path: string, pretty?: boolean): void;
}
const { Tokenizer } = requireFromText('tokenizers') as { Tokenizer: { fromString(json: string): TrainableTokenizer } };

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: join(repoRoot, '../shared/corpus/train.jsonl') },
    size: { type: 'string', default: '8000' },
    out: { type: 'string', default: join(repoRoot, 'examples/student-tokenizer') },
  },
});

const specialTokens = ['<s>', '</s>', '<pad>'];
const vocabularySize = Number(values.size);
const mergeCount = vocabularySize - specialTokens.length - 256;
if (!Number.isInteger(vocabularySize) || mergeCount < 1) {
  throw new Error(`--size takes a whole number above ${specialTokens.length + 256} (special tokens + 256 bytes), got ${values.size}`);
}

// Qwen's pre-tokenizer split: words with their leading space, single digits, punctuation runs,
// newlines, whitespace runs; then every byte as a printable character.
const splitPattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const preTokenizer = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: splitPattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  ],
};
const byteLevelDecoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

function tokenizerJson(vocab: Record<string, number>, merges: string[], withTemplate: boolean): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    // No normalizer: decode(encode(text)) gives back the text exactly.
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: withTemplate
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<s>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: '<s>', type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
        }
      : null,
    decoder: byteLevelDecoder,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** GPT-2's byte-to-unicode alphabet in byte order: the 256 base tokens. */
function byteAlphabet(): string[] {
  const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  let shifted = 0;
  return Array.from({ length: 256 }, (_, byte) => String.fromCharCode(printable(byte) ? byte : 256 + shifted++));
}

const workDir = await mkdtemp(join(tmpdir(), 'kd-student-tokenizer-'));
try {
  const corpusText = join(workDir, 'corpus.txt');
  const lines: string[] = [];
  let documents = 0;
  for await (const document of readCorpus(resolve(values.corpus))) {
    lines.push(document.text);
    documents++;
  }
  await writeFile(corpusText, `${lines.join('\n')}\n`);

  const trainer = Tokenizer.fromString(JSON.stringify(tokenizerJson({}, [], false)));
  trainer.train([corpusText]);
  const trainedFile = join(workDir, 'trained.json');
  trainer.save(trainedFile);
  const trained = JSON.parse(await readFile(trainedFile, 'utf8')) as { model: { merges: (string | [string, string])[] } };
  const learned = trained.model.merges.map((merge) => (typeof merge === 'string' ? (merge.split(' ') as [string, string]) : merge));
  if (learned.length < mergeCount) {
    throw new Error(`the corpus taught only ${learned.length} merges; a ${vocabularySize}-token vocabulary needs ${mergeCount}: use a larger corpus or a smaller --size`);
  }

  const vocab: Record<string, number> = {};
  specialTokens.forEach((token, id) => (vocab[token] = id));
  for (const character of byteAlphabet()) vocab[character] = Object.keys(vocab).length;
  const merges: string[] = [];
  for (const [left, right] of learned.slice(0, mergeCount)) {
    if (vocab[left] === undefined || vocab[right] === undefined) throw new Error(`merge ${left} ${right} uses a token no earlier merge made`);
    const merged = left + right;
    if (vocab[merged] === undefined) vocab[merged] = Object.keys(vocab).length;
    merges.push(`${left} ${right}`);
  }

  const outDir = resolve(values.out);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'tokenizer.json'), `${JSON.stringify(tokenizerJson(vocab, merges, true), null, 2)}\n`);
  const addedTokensDecoder = Object.fromEntries(
    specialTokens.map((content, id) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
  );
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  await writeFile(join(outDir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  process.stdout.write(`${outDir}: ${Object.keys(vocab).length} tokens (${merges.length} merges) from ${documents} documents of ${values.corpus}\n`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
