// The `tokenizers` binding reports offsets in Unicode code points; JavaScript strings index
// UTF-16 code units. The two differ after any character outside the Basic Multilingual Plane
// (emoji, 𝔘), so offsets are converted once, here, before anything compares them with text.
// A normalizer that composes characters (NFC: e + U+0301 → é) can leave the trailing combining
// mark of a token in no span; such marks are given to the token that ends just before them.

/** utf16[i] = the UTF-16 index of code point i (length: code points + 1), or undefined when they coincide. */
export function codePointToUtf16Table(text: string): Uint32Array | undefined {
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

/** Flattens the binding's [start, end] code-point pairs into UTF-16 [start, end) pairs. */
export function utf16Offsets(text: string, codePointOffsets: ArrayLike<ArrayLike<number>>): Uint32Array {
  const table = codePointToUtf16Table(text);
  const offsets = new Uint32Array(2 * codePointOffsets.length);
  for (let i = 0; i < codePointOffsets.length; i++) {
    const pair = codePointOffsets[i];
    offsets[2 * i] = table ? table[pair[0]] : pair[0];
    offsets[2 * i + 1] = table ? table[pair[1]] : pair[1];
  }
  if (combiningMark.test(text)) coverTrailingMarks(text, offsets);
  return offsets;
}

const combiningMark = /\p{M}/u;
const startsWithMark = /^\p{M}/u;

/** Extends each span that ends right before an uncovered combining mark over the marks. */
function coverTrailingMarks(text: string, offsets: Uint32Array): void {
  const covered = new Uint8Array(text.length);
  for (let i = 0; i < offsets.length; i += 2) covered.fill(1, offsets[i], offsets[i + 1]);
  for (let i = 1; i < offsets.length; i += 2) {
    let end = offsets[i];
    if (end === offsets[i - 1]) continue; // an empty span stays empty
    while (end < text.length && covered[end] === 0 && startsWithMark.test(text.slice(end, end + 2))) {
      end += text.codePointAt(end)! > 0xffff ? 2 : 1;
    }
    offsets[i] = end;
  }
}
