// A Hugging Face tokenizer.json, loaded once for every package: the `tokenizers` binding to
// encode and decode, UTF-16 offsets, the special-token roles (see roles.ts for the order), one
// framing function, one vocabulary size, and every token's spelling and bytes.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer as Binding } from 'tokenizers';
import { z } from 'zod';
import { TextError } from './errors.js';
import { detectNormalizationRules, normalizeToken, type TokenizerFamily } from './normalize.js';
import { utf16Offsets } from './offsets.js';
import { resolveRoles, tokenizerConfigSchema, type RoleChoice, type RoleSource, type SpecialTokenRole, type SpecialTokenRoles, type TokenizerConfig } from './roles.js';

export interface EncodedText {
  ids: Uint32Array;
  /** 2 × ids.length: [start, end) of each token in the text, UTF-16 code units. */
  offsets: Uint32Array;
}

export interface FrameOptions {
  /** Put the BOS token first (default true; nothing is added when the tokenizer has none). */
  bos?: boolean;
  /** Put the EOS token last (default true; nothing is added when the tokenizer has none). */
  eos?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text (default false). */
  skipSpecialTokens?: boolean;
}

export interface LoadTokenizerOptions {
  /** Overrides the role tokens: a token's content, its id, or null for none (step 1 of the resolution order). */
  specialTokens?: Partial<Record<SpecialTokenRole, RoleChoice>>;
}

export interface Tokenizer {
  /** The tokenizer.json file. */
  readonly path: string;
  /** sha256 of the tokenizer.json bytes (what dataset manifests record). */
  readonly sha256: string;
  readonly family: TokenizerFamily;
  /** Largest id + 1 over the model vocabulary and the added tokens: the length of a dense vector over this vocabulary (ids may have gaps). */
  readonly vocabSize: number;
  readonly roles: Readonly<SpecialTokenRoles>;
  /** Where each role's token was found. */
  readonly roleSources: Readonly<Partial<Record<SpecialTokenRole, RoleSource>>>;
  /** tokenizer_config.json as read (undefined when there is none beside tokenizer.json). */
  readonly config: Readonly<TokenizerConfig> | undefined;
  /** Tokenizes text as it stands: no BOS, EOS or other special tokens are added. */
  encode(text: string): Promise<EncodedText>;
  /** The document as a model reads it: BOS + tokens + EOS (per `options`); markers get empty spans (0,0 and n,n). */
  frame(text: string, options?: FrameOptions): Promise<EncodedText>;
  /** frame() over many texts at once (the binding encodes them in parallel). */
  frameBatch(texts: readonly string[], options?: FrameOptions): Promise<EncodedText[]>;
  /** Ids of each text tokenized as a fragment of running text: no start-of-text word marker, no special tokens. */
  encodeFragments(texts: readonly string[]): Promise<Uint32Array[]>;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): Promise<string>;
  /** The raw vocabulary spelling of `id`, or undefined for an id with no token. */
  token(id: number): string | undefined;
  /** The bytes `id` stands for in text (a view; do not modify). Special tokens: their content. Empty for an unknown id. */
  tokenBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
  /** The id of a raw vocabulary spelling. */
  idOfToken(token: string): number | undefined;
}

const addedTokenSchema = z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().optional() });
const tokenizerFileSchema = z
  .object({
    added_tokens: z.array(addedTokenSchema).nullish(),
    model: z.object({ type: z.string().optional(), unk_token: z.string().nullish() }).passthrough(),
  })
  .passthrough();

/** A directory stands for its tokenizer.json. */
export async function resolveTokenizerFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new TextError('E_TOKENIZER_NOT_FOUND', `${path} does not exist; pass a tokenizer.json file or the folder that holds one`, { cause });
  }
  return info.isDirectory() ? join(path, 'tokenizer.json') : path;
}

async function readTokenizerConfig(tokenizerPath: string): Promise<TokenizerConfig | undefined> {
  const configPath = join(dirname(tokenizerPath), 'tokenizer_config.json');
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    return undefined; // the file is optional: many exports ship tokenizer.json alone
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TextError('E_TOKENIZER_FORMAT', `${configPath}: not valid JSON`, { cause });
  }
  const parsed = tokenizerConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new TextError('E_TOKENIZER_FORMAT', `${configPath}: expected bos_token/eos_token/pad_token/unk_token as strings, {content} or null; ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/**
 * A copy of the tokenizer.json that encodes a text as it stands: no word marker prepended at
 * the start, so "the" does not come back as "▁the". Undefined when the tokenizer adds none.
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
    throw new TextError('E_TOKENIZER_FORMAT', `${file}: model.vocab is missing; expected the vocabulary of a BPE, WordPiece, WordLevel or Unigram model`);
  }
  for (const token of added) entries.push([token.content, token.id]);
  return entries;
}

function parseBinding(text: string, path: string): Binding {
  try {
    return Binding.fromString(text);
  } catch (cause) {
    throw new TextError('E_TOKENIZER_FORMAT', `${path}: not a tokenizer.json the tokenizers library can read (${(cause as Error).message}); save it with transformers' save_pretrained`, { cause });
  }
}

/** Loads a tokenizer.json (or the folder holding it), with its tokenizer_config.json when present. */
export async function loadTokenizer(path: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const file = await resolveTokenizerFile(path);
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (cause) {
    throw new TextError('E_TOKENIZER_NOT_FOUND', `${file} cannot be read; pass a tokenizer.json file or the folder that holds one`, { cause });
  }
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  const text = buffer.toString('utf8');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new TextError('E_TOKENIZER_FORMAT', `${file}: not valid JSON; expected a Hugging Face tokenizer.json`, { cause });
  }
  const shape = tokenizerFileSchema.safeParse(json);
  if (!shape.success) {
    throw new TextError('E_TOKENIZER_FORMAT', `${file}: expected a Hugging Face tokenizer.json with a model and added_tokens; ${shape.error.issues[0]?.message}`);
  }
  const binding = parseBinding(text, file);
  const rules = detectNormalizationRules(json);

  // The vocabulary comes from the parsed file: asking the binding for it costs as much again.
  const added = shape.data.added_tokens ?? [];
  const entries = vocabularyEntries(shape.data.model, added, file);
  let vocabSize = 0;
  for (const [, id] of entries) vocabSize = Math.max(vocabSize, id + 1);
  const tokens = new Array<string | undefined>(vocabSize);
  for (const [token, id] of entries) tokens[id] = token;
  const special = new Uint8Array(vocabSize);
  const addedContent = new Map<number, string>();
  for (const token of added) {
    addedContent.set(token.id, token.content);
    if (token.special) special[token.id] = 1;
  }

  // Every token's bytes in one pool, built on first use: no per-token arrays for 200k tokens.
  let byteStarts: Uint32Array | undefined;
  let pool: Uint8Array = new Uint8Array(0);
  const buildPool = () => {
    const utf8 = new TextEncoder();
    const starts = new Uint32Array(vocabSize + 1);
    let bytesPool = new Uint8Array(vocabSize * 8);
    let used = 0;
    for (let id = 0; id < vocabSize; id++) {
      starts[id] = used;
      const token = tokens[id];
      if (token === undefined) continue;
      const content = addedContent.get(id);
      const bytes = content !== undefined ? utf8.encode(content) : normalizeToken(token, rules);
      if (used + bytes.length > bytesPool.length) {
        const grown = new Uint8Array(Math.max(bytesPool.length * 2, used + bytes.length));
        grown.set(bytesPool.subarray(0, used));
        bytesPool = grown;
      }
      bytesPool.set(bytes, used);
      used += bytes.length;
    }
    starts[vocabSize] = used;
    pool = bytesPool;
    byteStarts = starts;
    return starts;
  };

  const idOfToken = (token: string): number | undefined => binding.tokenToId(token) ?? undefined;
  const config = await readTokenizerConfig(file);
  const { roles, sources } = resolveRoles({
    file,
    config,
    postProcessor: json.post_processor,
    modelUnkToken: shape.data.model.unk_token ?? undefined,
    options: options.specialTokens,
    idOfToken,
    isSpecial: (id) => special[id] === 1,
    vocabSize,
  });
  Object.freeze(roles);

  const frameEncoding = (input: string, ids: ArrayLike<number>, offsets: Uint32Array, frameOptions: FrameOptions): EncodedText => {
    const bos = frameOptions.bos !== false && roles.bos !== undefined ? 1 : 0;
    const eos = frameOptions.eos !== false && roles.eos !== undefined ? 1 : 0;
    const length = ids.length + bos + eos;
    const framed = { ids: new Uint32Array(length), offsets: new Uint32Array(2 * length) };
    if (bos) framed.ids[0] = roles.bos!;
    framed.ids.set(ids, bos);
    framed.offsets.set(offsets, 2 * bos);
    if (eos) {
      framed.ids[length - 1] = roles.eos!;
      framed.offsets[2 * length - 2] = input.length;
      framed.offsets[2 * length - 1] = input.length;
    }
    return framed;
  };

  const empty = new Uint8Array(0);
  let fragmentBinding: Binding | undefined;
  return {
    path: file,
    sha256,
    family: rules.family,
    vocabSize,
    roles,
    roleSources: Object.freeze(sources),
    config,
    async encode(input) {
      const encoding = await binding.encode(input, null, { addSpecialTokens: false });
      return { ids: Uint32Array.from(encoding.getIds()), offsets: utf16Offsets(input, encoding.getOffsets()) };
    },
    async frame(input, frameOptions = {}) {
      const encoding = await binding.encode(input, null, { addSpecialTokens: false });
      return frameEncoding(input, encoding.getIds(), utf16Offsets(input, encoding.getOffsets()), frameOptions);
    },
    async frameBatch(inputs, frameOptions = {}) {
      if (inputs.length === 0) return [];
      const encodings = await binding.encodeBatch([...inputs], { addSpecialTokens: false });
      return encodings.map((encoding, i) => frameEncoding(inputs[i], encoding.getIds(), utf16Offsets(inputs[i], encoding.getOffsets()), frameOptions));
    },
    async encodeFragments(inputs) {
      if (inputs.length === 0) return [];
      if (!fragmentBinding) {
        const plain = withoutStartMarkers(json);
        fragmentBinding = plain ? parseBinding(JSON.stringify(plain), file) : binding;
      }
      const encodings = await fragmentBinding.encodeBatch([...inputs], { addSpecialTokens: false });
      return encodings.map((encoding) => Uint32Array.from(encoding.getIds()));
    },
    decode: (ids, decodeOptions = {}) => binding.decode(Array.from(ids), decodeOptions.skipSpecialTokens ?? false),
    token: (id) => tokens[id],
    tokenBytes(id) {
      if (!(id >= 0 && id < vocabSize)) return empty;
      const starts = byteStarts ?? buildPool();
      return pool.subarray(starts[id], starts[id + 1]);
    },
    isSpecial: (id) => special[id] === 1,
    idOfToken,
  };
}
