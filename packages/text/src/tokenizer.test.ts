import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextError } from './errors.js';
import { testTokenizer } from './tokenizer-suite.js';
import { loadTokenizer } from './tokenizer.js';
import { expectations, tokenizerNamed, tokenizerPaths, type TokenizerName } from './test-tokenizers.js';

for (const name of Object.keys(tokenizerPaths) as TokenizerName[]) testTokenizer(name, () => tokenizerNamed(name), expectations[name]);

async function errorOf(promise: Promise<unknown>): Promise<TextError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TextError);
    return error as TextError;
  }
  throw new Error('expected a TextError');
}

describe('loadTokenizer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kd-text-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a folder through its tokenizer.json and reads the tokenizer_config.json beside it', async () => {
    const tokenizer = await loadTokenizer(dirname(tokenizerPaths.student));
    expect(tokenizer.path).toBe(tokenizerPaths.student);
    expect(tokenizer.config?.eos_token).toBe('</s>');
    expect(tokenizer.roleSources.eos).toBe('tokenizer_config.json');
  });

  it('does not frame Qwen3 documents with its plain-text <s> and </s> tokens', async () => {
    const qwen = await tokenizerNamed('qwen3');
    const textStart = qwen.idOfToken('<s>');
    expect(textStart).toBeDefined();
    expect(qwen.isSpecial(textStart!)).toBe(false);
    const framed = await qwen.frame('Hello');
    expect([...framed.ids]).not.toContain(textStart);
    expect([...framed.ids]).not.toContain(qwen.idOfToken('</s>'));
    expect(framed.ids[framed.ids.length - 1]).toBe(qwen.idOfToken('<|im_end|>'));
  });

  it('takes the post-processor template and the names where tokenizer_config.json is absent', async () => {
    const teacher = await tokenizerNamed('teacher');
    expect(teacher.config).toBeUndefined();
    expect(teacher.roleSources).toEqual({ bos: 'post-processor', eos: 'name', unk: 'post-processor' });
  });

  it('lets tokenizer_config.json win over the template, and an explicit null mean "no token"', async () => {
    const sub = join(dir, 'config-wins');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(sub);
    await writeFile(join(sub, 'tokenizer.json'), await readFile(tokenizerPaths.teacher));
    await writeFile(join(sub, 'tokenizer_config.json'), JSON.stringify({ bos_token: null, eos_token: { content: '<unk>' } }));
    const tokenizer = await loadTokenizer(sub);
    expect(tokenizer.roles.bos).toBeUndefined();
    expect(tokenizer.roles.eos).toBe(0);
    expect(tokenizer.roles.unk).toBe(0); // not in the config: the model's unk_token
    expect([...(await tokenizer.frame('hi')).ids].at(0)).not.toBe(1);
  });

  it('takes the EOS the post-processor template appends', async () => {
    const json = JSON.parse(await readFile(tokenizerPaths.teacher, 'utf8'));
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<unk>', type_id: 0 } }],
      pair: [],
      special_tokens: {},
    };
    const file = join(dir, 'template-eos.json');
    await writeFile(file, JSON.stringify(json));
    const tokenizer = await loadTokenizer(file);
    expect(tokenizer.roles).toEqual({ bos: 1, eos: 0, unk: 0 });
    expect(tokenizer.roleSources.eos).toBe('post-processor');
  });

  it('lets the specialTokens option override every source, by content, id or null', async () => {
    const tokenizer = await loadTokenizer(tokenizerPaths.llama2, { specialTokens: { bos: null, eos: '<unk>', pad: 2 } });
    expect(tokenizer.roles).toEqual({ eos: 0, pad: 2, unk: 0 });
    expect(tokenizer.roleSources.pad).toBe('option');
    expect((await errorOf(loadTokenizer(tokenizerPaths.llama2, { specialTokens: { eos: '<nope>' } }))).code).toBe('E_TOKENIZER_FORMAT');
    expect((await errorOf(loadTokenizer(tokenizerPaths.llama2, { specialTokens: { eos: 32000 } }))).code).toBe('E_OPTIONS');
  });

  it('refuses a config naming a token the vocabulary lacks', async () => {
    const sub = join(dir, 'bad-config');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(sub);
    await writeFile(join(sub, 'tokenizer.json'), await readFile(tokenizerPaths.teacher));
    await writeFile(join(sub, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>' }));
    const error = await errorOf(loadTokenizer(sub));
    expect(error.code).toBe('E_TOKENIZER_FORMAT');
    expect(error.message).toContain('<|im_end|>');
  });

  it('refuses missing paths and files that are not a tokenizer.json, with codes', async () => {
    expect((await errorOf(loadTokenizer(join(dir, 'missing.json')))).code).toBe('E_TOKENIZER_NOT_FOUND');
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{ nope');
    expect((await errorOf(loadTokenizer(notJson))).code).toBe('E_TOKENIZER_FORMAT');
    const config = join(sharedDirOf(tokenizerPaths.teacher), 'config.json');
    expect((await errorOf(loadTokenizer(config))).code).toBe('E_TOKENIZER_FORMAT');
  });

  it('keeps the teacher parity probe ids', async () => {
    const teacher = await tokenizerNamed('teacher');
    const { ids } = await teacher.frame('The Congress of the United States shall', { eos: false });
    expect([...ids]).toEqual([1, 415, 8463, 302, 272, 2969, 3543, 4579]);
  });

  it('encodes fragments without the start-of-text word marker', async () => {
    const llama = await tokenizerNamed('llama2');
    const [inText] = await llama.encodeFragments(['the']);
    expect(llama.token(inText[0])).toBe('the');
    expect(llama.token((await llama.encode('the')).ids[0])).toBe('▁the');
    expect(await llama.encodeFragments([])).toEqual([]);
  });
});

function sharedDirOf(file: string): string {
  return dirname(file);
}
