// Text of generated tokens as it grows, piece by piece, never splitting a character: each step
// decodes a short window of recent tokens (starting in the prompt, so a word's leading space
// survives) and hands out only what was added, holding back while the window ends in an
// incomplete UTF-8 sequence (byte-fallback pieces such as <0xE2>). The pieces add up to the text.

export interface Decoder {
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): Promise<string>;
}

const replacement = '\uFFFD';
/** Tokens of context a window keeps when it is moved forward. */
const contextTokens = 4;
/** A window longer than this is moved forward (the decode cost stays constant per token). */
const windowLimit = 32;
const decodeOptions = { skipSpecialTokens: true };

export class IncrementalText {
  private readonly decoder: Decoder;
  private readonly ids: number[];
  /** Start of the decoded window in `ids`. */
  private start = 0;
  /** Tokens in ids[start, read) are accounted for; their window text is `windowText`. */
  private read: number;
  private windowText: string | undefined;
  /** Everything handed out so far. */
  text = '';

  /** `context`: the last tokens of the prompt (their text is not part of the output). */
  constructor(decoder: Decoder, context: ArrayLike<number>) {
    this.decoder = decoder;
    this.ids = Array.from(context).slice(-contextTokens);
    this.read = this.ids.length;
  }

  /** Adds a token; returns the text it completes ('' while a character is still incomplete). */
  async push(id: number): Promise<string> {
    this.ids.push(id);
    this.windowText ??= await this.decoder.decode(this.ids.slice(this.start, this.read), decodeOptions);
    const full = await this.decoder.decode(this.ids.slice(this.start), decodeOptions);
    if (full.endsWith(replacement) || full.length <= this.windowText.length || !full.startsWith(this.windowText)) return '';
    const piece = full.slice(this.windowText.length);
    this.text += piece;
    this.read = this.ids.length;
    this.windowText = full;
    if (this.read - this.start > windowLimit) {
      this.start = this.read - contextTokens;
      this.windowText = undefined;
    }
    return piece;
  }

  /** What is still held back (an incomplete character comes out as U+FFFD). */
  async finish(): Promise<string> {
    if (this.read === this.ids.length) return '';
    this.windowText ??= await this.decoder.decode(this.ids.slice(this.start, this.read), decodeOptions);
    const full = await this.decoder.decode(this.ids.slice(this.start), decodeOptions);
    this.read = this.ids.length;
    const piece = full.startsWith(this.windowText) ? full.slice(this.windowText.length) : '';
    this.text += piece;
    this.windowText = full;
    return piece;
  }
}

/** The text of `generated` as it continues `context` (what IncrementalText's pieces add up to). */
export async function continuationText(decoder: Decoder, context: ArrayLike<number>, generated: ArrayLike<number>): Promise<string> {
  // One decode for the whole continuation: the window covers context + generated at once.
  const contextIds = Array.from(context).slice(-contextTokens);
  const before = await decoder.decode(contextIds, decodeOptions);
  const all = await decoder.decode([...contextIds, ...Array.from(generated)], decodeOptions);
  if (all.startsWith(before)) return all.slice(before.length);
  const stream = new IncrementalText(decoder, context);
  for (let i = 0; i < generated.length; i++) await stream.push(generated[i]);
  await stream.finish();
  return stream.text;
}
