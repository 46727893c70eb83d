// Token → the bytes it stands for, across tokenizer families. Two tokens of different
// tokenizers are the same token when these bytes match, whatever their raw spelling:
// SentencePiece writes a space as `▁` and raw bytes as `<0xNN>`, byte-level BPE writes every
// byte as a printable character (`Ġ` = space), WordPiece marks continuations with `##`.
import { TextError } from './errors.js';
import { byteLevelToBytes } from './byte-level.js';

export type TokenizerFamily = 'sentencepiece' | 'byte-level' | 'wordpiece' | 'plain';

export interface NormalizationRules {
  family: TokenizerFamily;
  /** SentencePiece: the character written for a space (usually `▁`). */
  wordMarker: string;
  /** SentencePiece: `<0xNN>` tokens stand for the raw byte NN. */
  byteFallback: boolean;
  /** WordPiece: the prefix of a piece that continues a word (usually `##`). */
  continuingPrefix: string;
}

type ConfigNode = Record<string, unknown> | null | undefined;

/** Every component of a (possibly nested `Sequence`) normalizer, pre-tokenizer or decoder. */
function components(node: unknown): Record<string, unknown>[] {
  if (!node || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const nested = ['normalizers', 'pretokenizers', 'decoders', 'processors'].flatMap((key) =>
    Array.isArray(record[key]) ? (record[key] as unknown[]).flatMap(components) : [],
  );
  return [record, ...nested];
}

function replacedPattern(component: Record<string, unknown>): string | undefined {
  const pattern = component.pattern as { String?: unknown } | undefined;
  return typeof pattern?.String === 'string' ? pattern.String : undefined;
}

/** Reads how a tokenizer.json spells text in its tokens from its model, pre-tokenizer and decoder. */
export function detectNormalizationRules(tokenizerJson: Record<string, unknown>): NormalizationRules {
  const model = (tokenizerJson.model ?? {}) as Record<string, unknown>;
  const rules: NormalizationRules = { family: 'plain', wordMarker: '▁', byteFallback: model.byte_fallback === true, continuingPrefix: '##' };
  if (model.type === 'WordPiece') {
    const prefix = model.continuing_subword_prefix;
    return { ...rules, family: 'wordpiece', continuingPrefix: typeof prefix === 'string' ? prefix : '##' };
  }
  const textSide = [...components(tokenizerJson.pre_tokenizer as ConfigNode), ...components(tokenizerJson.decoder as ConfigNode)];
  if (textSide.some((component) => component.type === 'ByteLevel')) return { ...rules, family: 'byte-level' };
  const metaspace = textSide.find((component) => component.type === 'Metaspace');
  if (metaspace) {
    const replacement = metaspace.replacement;
    return { ...rules, family: 'sentencepiece', wordMarker: typeof replacement === 'string' ? replacement : '▁' };
  }
  // Llama-2 style: the normalizer replaces ' ' by the marker and the decoder turns it back.
  const spaceReplacer = components(tokenizerJson.normalizer as ConfigNode).find(
    (component) => component.type === 'Replace' && replacedPattern(component) === ' ' && typeof component.content === 'string',
  );
  if (spaceReplacer) return { ...rules, family: 'sentencepiece', wordMarker: spaceReplacer.content as string };
  const markerDecoder = textSide.find((component) => component.type === 'Replace' && component.content === ' ' && replacedPattern(component));
  if (markerDecoder) return { ...rules, family: 'sentencepiece', wordMarker: replacedPattern(markerDecoder)! };
  return rules;
}

const utf8 = new TextEncoder();
const byteFallbackToken = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * The bytes a vocabulary token stands for in text. A WordPiece piece that starts a word stands
 * for the word with the space before it, as `▁` does in SentencePiece; continuation pieces
 * stand for their text alone.
 */
export function normalizeToken(token: string, rules: NormalizationRules): Uint8Array {
  switch (rules.family) {
    case 'byte-level': {
      const bytes = byteLevelToBytes(token);
      if (!bytes) {
        throw new TextError(
          'E_TOKENIZER_FORMAT',
          `byte-level token ${JSON.stringify(token)} has a character outside the byte-to-unicode alphabet; the tokenizer.json is not a byte-level BPE (check its decoder) or the vocabulary is corrupt`,
        );
      }
      return bytes;
    }
    case 'sentencepiece': {
      if (rules.byteFallback) {
        const byte = byteFallbackToken.exec(token);
        if (byte) return Uint8Array.of(Number.parseInt(byte[1], 16));
      }
      return utf8.encode(token.split(rules.wordMarker).join(' '));
    }
    case 'wordpiece':
      return utf8.encode(token.startsWith(rules.continuingPrefix) ? token.slice(rules.continuingPrefix.length) : ` ${token}`);
    default:
      return utf8.encode(token);
  }
}
