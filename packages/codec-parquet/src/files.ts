// Durable file operations: write to a temporary name, fsync, rename, fsync the folder, so a
// reader (or a resumed writer) sees either the old file or the complete new one.
import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CodecError } from './errors.js';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new CodecError('E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` to `path` via `path + '.tmp'`; returns once the rename is durable. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncFolder(dirname(path));
  } catch (cause) {
    throw new CodecError('E_IO', `cannot write ${path}: ${(cause as Error).message}; check the folder is writable and the disk has space`, { cause });
  }
}
