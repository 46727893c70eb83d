// A Hugging Face tokenizer.json loaded for alignment: the `tokenizers` binding to encode, plus
// every token's raw spelling, the bytes it stands for, whether it is special, and which special
// tokens play the document roles (BOS, EOS, padding, unknown).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { z } from 'zod';
import { AlignError } from './errors.js';
import { detectNormalizationRules, normalizeToken, type TokenizerFamily } from './normalize.js';
import { utf16Offsets } from './offsets.js';

export type SpecialTokenRole = 'bos' | 'eos' | 'pad' | 'unk';

/** Ids of the special tokens that play each document role, where the tokenizer has one. */
export type SpecialTokenRoles = Partial<Record<SpecialTokenRole, number>>;

export interface EncodedText {
  ids: Uint32Array;
  /** 2 × ids.length: [start, end) of each token in the text, UTF-16 code units. */
  offsets: Uint32Array;
}

export interface LoadTokenizerOptions {
  /** Names the role tokens by content when neither tokenizer_config.json nor the usual names do. */
  specialTokens?: Partial<Record<SpecialTokenRole, string>>;
}

export interface LoadedTokenizer {
  /** The tokenizer.json file. */
  readonly path: string;
  /** sha256 of the tokenizer.json bytes (what dataset manifests record). */
  readonly sha256: string;
  readonly family: TokenizerFamily;
  /** Largest id + 1: the length of a dense vector over this vocabulary (ids may have gaps). */
  readonly vocabSize: number;
  readonly roles: SpecialTokenRoles;
  /** The raw vocabulary spelling of `id`, or undefined for an id with no token. */
  token(id: number): string | undefined;
  /** The bytes `id` stands for in text (a view; do not modify). Special tokens: their content. */
  tokenBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
  /** The id of a raw vocabulary spelling. */
  idOfToken(token: string): number | undefined;
  /** Tokenizes text; `markers` adds BOS and EOS (empty spans at the start and end) where the tokenizer has them. */
  encode(text: string, options?: { markers?: boolean }): Promise<EncodedText>;
  decode(ids: ArrayLike<number>): Promise<string>;
}

const roleNames: Record<SpecialTokenRole, readonly string[]> = {
  bos: ['<s>', '<|begin_of_text|>', '<|bos|>', '<bos>', '<|startoftext|>', '[CLS]'],
  eos: ['</s>', '<|end_of_text|>', '<|endoftext|>', '<|eos|>', '<eos>', '[SEP]'],
  pad: ['<pad>', '<|pad|>', '[PAD]'],
  unk: ['<unk>', '<|unk|>', '[UNK]'],
};

const addedTokenSchema = z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().optional() });
const tokenizerFileSchema = z
  .object({
    added_tokens: z.array(addedTokenSchema).nullish(),
    model: z.object({ type: z.string().optional(), unk_token: z.string().nullish() }).passthrough(),
  })
  .passthrough();
const tokenValue = z.union([z.string(), z.object({ content: z.string() }).passthrough()]).nullish();
const tokenizerConfigSchema = z
  .object({ bos_token: tokenValue, eos_token: tokenValue, pad_token: tokenValue, unk_token: tokenValue })
  .passthrough();

async function resolveTokenizerFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new AlignError('E_TOKENIZER_NOT_FOUND', `${path} does not exist; pass a tokenizer.json file or the folder that holds one`, { cause });
  }
  return info.isDirectory() ? join(path, 'tokenizer.json') : path;
}

async function readTokenizerConfig(tokenizerPath: string): Promise<z.infer<typeof tokenizerConfigSchema> | undefined> {
  const configPath = join(dirname(tokenizerPath), 'tokenizer_config.json');
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    return undefined; // the file is optional: many exports ship tokenizer.json alone
  }
  const parsed = tokenizerConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new AlignError('E_TOKENIZER_FORMAT', `${configPath}: expected bos_token/eos_token/pad_token/unk_token as strings or {content}; ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** The first special token of the post-processor's single-sequence template (before `$A`) is the BOS it adds. */
function templateBos(postProcessor: unknown): string | undefined {
  const pieces: unknown[] = [];
  for (const node of [postProcessor, ...(((postProcessor as { processors?: unknown[] })?.processors) ?? [])]) {
    const single = (node as { type?: string; single?: unknown[] } | null)?.single;
    if ((node as { type?: string } | null)?.type === 'TemplateProcessing' && Array.isArray(single)) pieces.push(...single);
  }
  const first = pieces[0] as { SpecialToken?: { id?: unknown } } | undefined;
  return typeof first?.SpecialToken?.id === 'string' ? first.SpecialToken.id : undefined;
}

/**
 * Returns a copy of the tokenizer.json that encodes a token's text as it stands: no word
 * marker prepended at the start. Mapping a teacher token asks "which student token begins this
 * text", and "the" must not come back as "▁the". Undefined when the tokenizer adds no marker.
 */
function withoutStartMarkers(json: Record<string, unknown>): Record<string, unknown> | undefined {
  let changed = false;
  const dropPrepend = (node: unknown): unknown => {
    if (!node || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    if (record.type === 'Prepend') {
      changed = true;
      return null;
    }
    if (record.type === 'Sequence' && Array.isArray(record.normalizers)) {
      return { ...record, normalizers: record.normalizers.map(dropPrepend).filter((entry) => entry !== null) };
    }
    return record;
  };
  const noPrefixSpace = (node: unknown): unknown => {
    if (!node || typeof node !== 'object') return node;
    const record = { ...(node as Record<string, unknown>) };
    if (record.type === 'Metaspace' && record.prepend_scheme !== 'never' && (record.prepend_scheme !== undefined || record.add_prefix_space !== false)) {
      changed = true;
      record.prepend_scheme = 'never';
      if ('add_prefix_space' in record) record.add_prefix_space = false;
    }
    if (record.type === 'ByteLevel' && record.add_prefix_space === true) {
      changed = true;
      record.add_prefix_space = false;
    }
    if (Array.isArray(record.pretokenizers)) record.pretokenizers = record.pretokenizers.map(noPrefixSpace);
    return record;
  };
  // Only the small parts are copied: the model (the bulk of the file) is shared.
  const copy = { ...json, normalizer: dropPrepend(json.normalizer), pre_tokenizer: noPrefixSpace(json.pre_tokenizer) };
  return changed ? copy : undefined;
}

/** [token, id] of the model's vocabulary (an object, or Unigram's [piece, score] list) and the added tokens. */
function vocabularyEntries(model: Record<string, unknown>, added: z.infer<typeof addedTokenSchema>[], file: string): [string, number][] {
  const vocab = model.vocab;
  let entries: [string, number][];
  if (Array.isArray(vocab)) {
    entries = vocab.map((entry, id) => [String((entry as unknown[])[0]), id]);
  } else if (vocab && typeof vocab === 'object') {
    entries = Object.entries(vocab as Record<string, number>);
  } else {
    throw new AlignError('E_TOKENIZER_FORMAT', `${file}: model.vocab is missing; expected the vocabulary of a BPE, WordPiece, WordLevel or Unigram model`);
  }
  for (const token of added) entries.push([token.content, token.id]);
  return entries;
}

function parseTokenizer(text: string, path: string): Tokenizer {
  try {
    return Tokenizer.fromString(text);
  } catch (cause) {
    throw new AlignError('E_TOKENIZER_FORMAT', `${path}: not a tokenizer.json the tokenizers library can read (${(cause as Error).message}); save it with transformers' save_pretrained`, { cause });
  }
}

/** Loads a tokenizer.json (or the folder holding it, with its tokenizer_config.json when present). */
export async function loadTokenizer(path: string, options: LoadTokenizerOptions = {}): Promise<LoadedTokenizer> {
  const file = await resolveTokenizerFile(path);
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (cause) {
    throw new AlignError('E_TOKENIZER_NOT_FOUND', `${file} cannot be read; pass a tokenizer.json file or the folder that holds one`, { cause });
  }
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  const text = buffer.toString('utf8');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new AlignError('E_TOKENIZER_FORMAT', `${file}: not valid JSON; expected a Hugging Face tokenizer.json`, { cause });
  }
  const shape = tokenizerFileSchema.safeParse(json);
  if (!shape.success) {
    throw new AlignError('E_TOKENIZER_FORMAT', `${file}: expected a Hugging Face tokenizer.json with a model and added_tokens; ${shape.error.issues[0]?.message}`);
  }
  const tokenizer = parseTokenizer(text, file);
  const rules = detectNormalizationRules(json);

  // The vocabulary comes from the parsed file: asking the binding for it costs as much again.
  const entries = vocabularyEntries(shape.data.model, shape.data.added_tokens ?? [], file);
  let vocabSize = 0;
  for (const [, id] of entries) vocabSize = Math.max(vocabSize, id + 1);
  const tokens = new Array<string | undefined>(vocabSize);
  for (const [token, id] of entries) tokens[id] = token;

  const special = new Uint8Array(vocabSize);
  const addedContent = new Map<number, string>();
  for (const added of shape.data.added_tokens ?? []) {
    if (added.id >= vocabSize) continue; // listed but not in the vocabulary the binding built
    addedContent.set(added.id, added.content);
    if (added.special) special[added.id] = 1;
  }

  // Every token's bytes in one pool: no per-token arrays for vocabularies of 200k tokens.
  const utf8 = new TextEncoder();
  const byteStarts = new Uint32Array(vocabSize + 1);
  let pool = new Uint8Array(vocabSize * 8);
  let used = 0;
  for (let id = 0; id < vocabSize; id++) {
    byteStarts[id] = used;
    const token = tokens[id];
    if (token === undefined) continue;
    const content = addedContent.get(id);
    const bytes = content !== undefined ? utf8.encode(content) : normalizeToken(token, rules);
    if (used + bytes.length > pool.length) {
      const grown = new Uint8Array(Math.max(pool.length * 2, used + bytes.length));
      grown.set(pool.subarray(0, used));
      pool = grown;
    }
    pool.set(bytes, used);
    used += bytes.length;
  }
  byteStarts[vocabSize] = used;

  const config = await readTokenizerConfig(file);
  const idOfToken = (token: string): number | undefined => tokenizer.tokenToId(token) ?? undefined;
  const roles: SpecialTokenRoles = {};
  const fromConfig = (value: z.infer<typeof tokenValue>) => (typeof value === 'string' ? value : (value?.content ?? undefined));
  const configured: Partial<Record<SpecialTokenRole, string | undefined>> = {
    bos: fromConfig(config?.bos_token) ?? templateBos(json.post_processor),
    eos: fromConfig(config?.eos_token),
    pad: fromConfig(config?.pad_token),
    unk: fromConfig(config?.unk_token) ?? shape.data.model.unk_token ?? undefined,
  };
  for (const role of ['bos', 'eos', 'pad', 'unk'] as const) {
    const named = options.specialTokens?.[role] ?? configured[role];
    if (named !== undefined) {
      const id = idOfToken(named);
      if (id === undefined) {
        throw new AlignError('E_TOKENIZER_FORMAT', `${file}: the ${role} token ${JSON.stringify(named)} is not in the vocabulary; fix tokenizer_config.json or the specialTokens option`);
      }
      roles[role] = id;
      continue;
    }
    // Without a config, only a config-less tokenizer's own special tokens under the usual names count.
    if (config === undefined) {
      const id = roleNames[role].map(idOfToken).find((candidate) => candidate !== undefined && special[candidate] === 1);
      if (id !== undefined) roles[role] = id;
    }
  }

  const empty = new Uint8Array(0);
  let mappingTokenizer: Tokenizer | undefined;
  const loaded: LoadedTokenizer & InternalTokenizer = {
    path: file,
    sha256,
    family: rules.family,
    vocabSize,
    roles,
    token: (id) => tokens[id],
    tokenBytes: (id) => (id >= 0 && id < vocabSize ? pool.subarray(byteStarts[id], byteStarts[id + 1]) : empty),
    isSpecial: (id) => special[id] === 1,
    idOfToken,
    async encode(input, encodeOptions = {}) {
      const encoding = await tokenizer.encode(input, null, { addSpecialTokens: false });
      const ids = encoding.getIds();
      const offsets = utf16Offsets(input, encoding.getOffsets());
      if (!encodeOptions.markers) return { ids: Uint32Array.from(ids), offsets };
      const bos = roles.bos === undefined ? 0 : 1;
      const eos = roles.eos === undefined ? 0 : 1;
      const length = ids.length + bos + eos;
      const withMarkers = { ids: new Uint32Array(length), offsets: new Uint32Array(2 * length) };
      if (bos) withMarkers.ids[0] = roles.bos!;
      withMarkers.ids.set(ids, bos);
      withMarkers.offsets.set(offsets, 2 * bos);
      if (eos) {
        withMarkers.ids[length - 1] = roles.eos!;
        withMarkers.offsets[2 * length - 2] = input.length;
        withMarkers.offsets[2 * length - 1] = input.length;
      }
      return withMarkers;
    },
    decode: (ids) => tokenizer.decode(Array.from(ids), false),
    async firstPieces(texts) {
      if (!mappingTokenizer) {
        const plain = withoutStartMarkers(json);
        mappingTokenizer = plain ? parseTokenizer(JSON.stringify(plain), file) : tokenizer;
      }
      const encodings = await mappingTokenizer.encodeBatch(texts, { addSpecialTokens: false });
      return encodings.map((encoding) => encoding.getIds()[0] ?? -1);
    },
  };
  return loaded;
}

/** What the vocabulary map needs beyond the public surface. */
export interface InternalTokenizer {
  /** For each text, the id of the first token this tokenizer splits it into (−1 for none), with no start marker or BOS. */
  firstPieces(texts: string[]): Promise<number[]>;
}

export function internals(tokenizer: LoadedTokenizer): InternalTokenizer {
  const candidate = tokenizer as LoadedTokenizer & Partial<InternalTokenizer>;
  if (typeof candidate.firstPieces !== 'function') {
    throw new AlignError('E_INPUT', 'expected a tokenizer made by loadTokenizer(); got another object');
  }
  return candidate as InternalTokenizer;
}
