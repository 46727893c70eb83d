// checksums.json of a checkpoint: the sha256 of every other file in it, written last, so a
// checkpoint with a checksums file is complete and a damaged one (a flipped mantissa bit in
// the weights, an edited state) is refused before anything is trained or exported from it.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TrainerError } from './errors.js';

export const checksumsFile = 'checksums.json';

const checksumsSchema = z.object({ sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)) });

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Writes `folder/checksums.json` over the files already in `folder`. */
export async function writeChecksums(folder: string): Promise<void> {
  const sha256: Record<string, string> = {};
  for (const file of (await readdir(folder)).sort()) if (file !== checksumsFile) sha256[file] = await sha256Of(join(folder, file));
  await writeFile(join(folder, checksumsFile), `${JSON.stringify({ sha256 }, null, 2)}\n`);
}

/** Checks every file of a checkpoint against its checksums.json; E_CHECKSUM names the first that differs. */
export async function verifyChecksums(folder: string): Promise<void> {
  let listed: Record<string, string>;
  try {
    const parsed = checksumsSchema.safeParse(JSON.parse(await readFile(join(folder, checksumsFile), 'utf8')));
    if (!parsed.success) throw new Error('not a checksums file');
    listed = parsed.data.sha256;
  } catch (cause) {
    throw new TrainerError(
      'E_CHECKSUM',
      `${join(folder, checksumsFile)} is missing or unreadable, so the checkpoint cannot be verified; it is incomplete or was written by an older version: start a new run`,
      { cause },
    );
  }
  const present = new Set(await readdir(folder));
  for (const [file, expected] of Object.entries(listed)) {
    if (!present.has(file)) throw new TrainerError('E_CHECKSUM', `${join(folder, file)} is listed in ${checksumsFile} but missing; the checkpoint is damaged: restore it from a copy or start a new run`);
    const found = await sha256Of(join(folder, file));
    if (found !== expected) {
      throw new TrainerError(
        'E_CHECKSUM',
        `${join(folder, file)}: sha256 mismatch (expected ${expected}, got ${found}); the checkpoint is damaged and is not trained on or exported: restore it from a copy or start a new run`,
      );
    }
  }
  for (const required of ['state.json', 'weights.safetensors']) {
    if (!(required in listed)) throw new TrainerError('E_CHECKSUM', `${join(folder, checksumsFile)} does not cover ${required}; the checkpoint cannot be verified`);
  }
}
