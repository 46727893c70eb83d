// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header
// of name → {dtype, shape, data_offsets}, then raw little-endian data): the weight format of
// the Hugging Face ecosystem, used for exports and for checkpoints alike.
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { TrainerError } from './errors.js';

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

const headerEntrySchema = z.object({ dtype: z.string(), shape: z.array(z.number().int().nonnegative()), data_offsets: z.tuple([z.number(), z.number()]) });

/** Serializes float32 tensors (in insertion order) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const expected = tensor.shape.reduce((product, size) => product * size, 1);
    if (expected !== tensor.data.length) {
      throw new TrainerError('E_EXPORT', `tensor ${name}: shape [${tensor.shape.join(', ')}] needs ${expected} values, has ${tensor.data.length}`);
    }
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  let headerText = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  headerText += ' '.repeat((8 - ((Buffer.byteLength(headerText) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    bytes.copy(out, position);
    position += bytes.length;
  }
  return out;
}

export async function writeSafetensors(path: string, tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFile(path, encodeSafetensors(tensors, metadata));
}

/** Parses float32 tensors; other dtypes are refused (this package writes only F32). */
export function decodeSafetensors(bytes: Buffer, source = 'safetensors'): { tensors: Map<string, StoredTensor>; metadata: Record<string, string> } {
  const fail = (what: string): never => {
    throw new TrainerError('E_CHECKPOINT', `${source}: ${what}; the file is damaged or not a safetensors file`);
  };
  if (bytes.length < 8) fail('shorter than the 8-byte header length');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) fail(`header length ${headerLength} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    return fail('header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = headerEntrySchema.safeParse(value);
    if (!entry.success) fail(`entry ${name} lacks dtype, shape or data_offsets`);
    const { dtype, shape, data_offsets: [begin, end] } = entry.data!;
    if (dtype !== 'F32') fail(`tensor ${name} has dtype ${dtype}, expected F32`);
    if (dataStart + end > bytes.length || end - begin !== 4 * shape.reduce((product, size) => product * size, 1)) {
      fail(`tensor ${name}: offsets [${begin}, ${end}] do not fit its shape or the file`);
    }
    // Copy into an aligned buffer: the data in the file need not start on a 4-byte boundary in memory.
    const data = new Float32Array((end - begin) / 4);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

export async function readSafetensors(path: string): Promise<{ tensors: Map<string, StoredTensor>; metadata: Record<string, string> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new TrainerError('E_CHECKPOINT', `${path}: cannot be read; check the path`, { cause });
  }
  return decodeSafetensors(bytes, path);
}
