// The GPT-2 byte-to-unicode alphabet that byte-level BPE tokenizers (GPT-2, Llama 3, Qwen,
// GPT-4o) write their tokens in: every byte gets a printable character, so `Ġ` is byte 0x20.

/** byteToCharacter[b] is the character a byte-level vocabulary writes for byte b. */
export const byteToCharacter: readonly string[] = buildByteToCharacter();

/** The inverse table: character code → byte, or −1 for characters outside the alphabet. */
const characterToByte = buildCharacterToByte();

function buildByteToCharacter(): string[] {
  const table = new Array<string>(256);
  // Printable Latin-1 bytes stand for themselves; the rest are shifted past 0xFF in byte order.
  const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    table[byte] = String.fromCharCode(printable(byte) ? byte : 256 + shifted++);
  }
  return table;
}

function buildCharacterToByte(): Int16Array {
  const table = new Int16Array(512).fill(-1);
  for (let byte = 0; byte < 256; byte++) table[byteToCharacter[byte].charCodeAt(0)] = byte;
  return table;
}

/** The bytes a byte-level token stands for, or undefined when a character is outside the alphabet. */
export function byteLevelToBytes(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const byte = code < 512 ? characterToByte[code] : -1;
    if (byte < 0) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}

/** The byte-level spelling of raw bytes (what a byte-level vocabulary stores). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let token = '';
  for (const byte of bytes) token += byteToCharacter[byte];
  return token;
}
