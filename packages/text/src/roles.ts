// Which special tokens play the document roles (begin, end, padding, unknown), resolved in one
// documented order, the one transformers follows:
//   1. the caller's `specialTokens` option (a token, an id, or null for "none");
//   2. tokenizer_config.json beside tokenizer.json: `bos_token`, `eos_token`, `pad_token`,
//      `unk_token` (a string or {content}); an explicit null there means the role has no token;
//   3. the post-processor template: the special token before `$A` is the BOS it adds, the one
//      after it the EOS (and the model's `unk_token` for unknown);
//   4. the tokenizer's own special added tokens under the names the common families use.
// A token found by name is only ever a special added token: Qwen3's vocabulary spells `<s>` as
// ordinary text, and framing with it would put text tokens at every document boundary.
import { z } from 'zod';
import { TextError } from './errors.js';

export type SpecialTokenRole = 'bos' | 'eos' | 'pad' | 'unk';
export const specialTokenRoles: readonly SpecialTokenRole[] = ['bos', 'eos', 'pad', 'unk'];

/** Ids of the special tokens that play each document role, where the tokenizer has one. */
export type SpecialTokenRoles = Partial<Record<SpecialTokenRole, number>>;

/** Where a role's token was found (step 1–4 of the order above). */
export type RoleSource = 'option' | 'tokenizer_config.json' | 'post-processor' | 'name';

/** A caller's choice for a role: the token's content, its id, or null for no token. */
export type RoleChoice = string | number | null;

const roleNames: Record<SpecialTokenRole, readonly string[]> = {
  bos: ['<s>', '<|begin_of_text|>', '<|bos|>', '<bos>', '<|startoftext|>', '[CLS]'],
  eos: ['</s>', '<|end_of_text|>', '<|endoftext|>', '<|eos|>', '<eos>', '[SEP]'],
  pad: ['<pad>', '<|pad|>', '[PAD]'],
  unk: ['<unk>', '<|unk|>', '[UNK]'],
};

const tokenValue = z.union([z.string(), z.object({ content: z.string() }).passthrough()]).nullish();
export const tokenizerConfigSchema = z
  .object({ bos_token: tokenValue, eos_token: tokenValue, pad_token: tokenValue, unk_token: tokenValue })
  .passthrough();
export type TokenizerConfig = z.infer<typeof tokenizerConfigSchema>;

interface TemplatePiece {
  SpecialToken?: { id?: unknown };
  Sequence?: unknown;
}

/** The special tokens the post-processor's single-sequence template puts before and after `$A`. */
export function templateMarkers(postProcessor: unknown): { bos?: string; eos?: string } {
  const pieces: TemplatePiece[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const record = node as { type?: string; single?: unknown; processors?: unknown };
    if (record.type === 'TemplateProcessing' && Array.isArray(record.single)) pieces.push(...(record.single as TemplatePiece[]));
    if (Array.isArray(record.processors)) record.processors.forEach(visit);
  };
  visit(postProcessor);
  const sequenceAt = pieces.findIndex((piece) => piece.Sequence !== undefined);
  if (sequenceAt < 0) return {};
  const special = (piece: TemplatePiece | undefined) => (typeof piece?.SpecialToken?.id === 'string' ? piece.SpecialToken.id : undefined);
  return { bos: special(pieces[sequenceAt - 1]), eos: special(pieces[sequenceAt + 1]) };
}

export interface RoleInputs {
  file: string;
  config: TokenizerConfig | undefined;
  postProcessor: unknown;
  modelUnkToken: string | undefined;
  options: Partial<Record<SpecialTokenRole, RoleChoice>> | undefined;
  idOfToken(token: string): number | undefined;
  isSpecial(id: number): boolean;
  vocabSize: number;
}

/** Resolves every role in the documented order; a role named explicitly but missing from the vocabulary is refused. */
export function resolveRoles(inputs: RoleInputs): { roles: SpecialTokenRoles; sources: Partial<Record<SpecialTokenRole, RoleSource>> } {
  const roles: SpecialTokenRoles = {};
  const sources: Partial<Record<SpecialTokenRole, RoleSource>> = {};
  const template = templateMarkers(inputs.postProcessor);
  const named = (role: SpecialTokenRole, content: string, source: RoleSource, where: string) => {
    const id = inputs.idOfToken(content);
    if (id === undefined) {
      throw new TextError('E_TOKENIZER_FORMAT', `${inputs.file}: the ${role} token ${JSON.stringify(content)} (from ${where}) is not in the vocabulary; fix ${where}`);
    }
    roles[role] = id;
    sources[role] = source;
  };
  for (const role of specialTokenRoles) {
    const choice = inputs.options?.[role];
    if (choice !== undefined) {
      if (choice === null) continue;
      if (typeof choice === 'number') {
        if (!Number.isInteger(choice) || choice < 0 || choice >= inputs.vocabSize) {
          throw new TextError('E_OPTIONS', `specialTokens.${role}: id ${choice} is outside the vocabulary (0…${inputs.vocabSize - 1})`);
        }
        roles[role] = choice;
        sources[role] = 'option';
      } else named(role, choice, 'option', 'the specialTokens option');
      continue;
    }
    const key = `${role}_token` as const;
    if (inputs.config && key in inputs.config) {
      const value = inputs.config[key];
      const content = typeof value === 'string' ? value : value?.content;
      if (content !== undefined) named(role, content, 'tokenizer_config.json', 'tokenizer_config.json');
      continue; // an explicit null: the tokenizer has no token for this role
    }
    const fromTemplate = role === 'bos' ? template.bos : role === 'eos' ? template.eos : role === 'unk' ? inputs.modelUnkToken : undefined;
    if (fromTemplate !== undefined) {
      named(role, fromTemplate, 'post-processor', 'the tokenizer.json post-processor');
      continue;
    }
    for (const name of roleNames[role]) {
      const id = inputs.idOfToken(name);
      if (id !== undefined && inputs.isSpecial(id)) {
        roles[role] = id;
        sources[role] = 'name';
        break;
      }
    }
  }
  return { roles, sources };
}
