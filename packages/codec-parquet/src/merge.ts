// Merging datasets written side by side (one per labelling worker) into one dataset: each
// member is verified (complete, every part present and matching its checksum and metadata), all
// must share one header (teacher, tokenizer, vocabulary, temperature, compression, quantization,
// unit hash), no document may be in two members, and the merged manifest.json then lists the
// members' parts where they lie. No part is moved, copied or rewritten, so a crash during a
// merge loses nothing: the merged manifest is written atomically, last.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CodecError } from './errors.js';
import { formatName, headerDifferences, type Manifest, manifestDigest, manifestFile, readManifest, totalsOf, writeManifest } from './manifest.js';
import { firstDuplicateDocument, verifyDataset } from './verify.js';

export interface MergeDatasetsOptions {
  /** What the producer records about the merged inputs (stored as given, like a writer's `source`). */
  source?: Record<string, unknown>;
}

const memberName = /^[\w-][\w.-]*$/;

/**
 * Writes `dir/manifest.json` for a dataset made of the datasets in the subfolders `members` of
 * `dir`. Refuses (and writes nothing) when a member is incomplete or damaged, when members
 * differ in header, when a document is in two members, or when `dir/manifest.json` exists and is
 * not a merged manifest. Merging again after a member changed rewrites the merged manifest.
 */
export async function mergeDatasets(dir: string, members: readonly string[], options: MergeDatasetsOptions = {}): Promise<Manifest> {
  if (members.length === 0) throw new CodecError('E_INPUT', `nothing to merge in ${dir}: no member folders given`);
  for (const member of members) {
    if (!memberName.test(member)) throw new CodecError('E_INPUT', `member ${JSON.stringify(member)} must be the name of a subfolder of ${dir}`);
  }
  if (new Set(members).size !== members.length) throw new CodecError('E_INPUT', `members of ${dir} are listed twice: ${members.join(', ')}`);
  if (existsSync(join(dir, manifestFile))) {
    let existing: Manifest | undefined;
    try {
      existing = await readManifest(dir);
    } catch {
      existing = undefined;
    }
    if (!existing?.members) {
      throw new CodecError('E_EXISTS', `${join(dir, manifestFile)} exists and is not a merged manifest; merge into a folder that holds only the members' folders`);
    }
  }
  const manifests: Manifest[] = [];
  const manifestHashes: string[] = [];
  for (const member of members) {
    const folder = join(dir, member);
    const manifest = await readManifest(folder);
    if (manifest.members) throw new CodecError('E_INPUT', `${folder} is a merged dataset itself; merge its members instead`);
    if (!manifest.complete) {
      throw new CodecError('E_INCOMPLETE', `${member} is incomplete (${manifest.totals.documents} documents stored, its writer was not closed); resume its labelling run, then merge again`);
    }
    const report = await verifyDataset(folder);
    if (!report.ok) {
      const bad = report.parts.find((part) => !part.ok);
      const problem = bad ? { code: bad.code ?? 'E_MANIFEST', problem: bad.problem ?? `${bad.file} failed` } : report.problems[0]!;
      throw new CodecError(problem.code, `${member}: ${problem.problem}`);
    }
    const first = manifests[0];
    if (first) {
      const differences = headerDifferences(first, manifest, manifest.quantization);
      if (first.idPacking !== manifest.idPacking) differences.push(`idPacking: ${members[0]} has ${first.idPacking}, this one ${manifest.idPacking}`);
      if (JSON.stringify(first.unitHash) !== JSON.stringify(manifest.unitHash)) differences.push(`unitHash: ${members[0]} has ${JSON.stringify(first.unitHash)}, this one ${JSON.stringify(manifest.unitHash)}`);
      if (differences.length > 0) {
        throw new CodecError('E_HEADER_MISMATCH', `${member} was labelled differently from ${members[0]} (${differences.join('; ').replaceAll('dataset has', `${members[0]} has`).replaceAll('this run has', 'this one has')}); label every member with the same teacher and settings`);
      }
    }
    manifests.push(manifest);
    manifestHashes.push(manifestDigest(manifest));
  }
  const parts = manifests.flatMap((manifest, m) => manifest.parts.map((part) => ({ ...part, file: `${members[m]}/${part.file}` })));
  const duplicate = await firstDuplicateDocument(dir, parts);
  if (duplicate) {
    throw new CodecError('E_INPUT', `document ${duplicate.index} is in two members: ${duplicate.files[0]} and ${duplicate.files[1]}; each document belongs in one member`);
  }
  const { teacher, tokenizer, vocabSize, temperature, compression, corpus, quantization, idPacking, unitHash } = manifests[0]!;
  const merged: Manifest = {
    format: formatName,
    // The members' own version (their idPacking agrees, so they share one): parts stay in place.
    formatVersion: manifests[0]!.formatVersion,
    teacher,
    tokenizer,
    vocabSize,
    temperature,
    compression,
    ...(corpus ? { corpus } : {}),
    ...(options.source ? { source: options.source } : {}),
    quantization,
    idPacking,
    unitHash,
    parts,
    totals: totalsOf(parts),
    complete: true,
    members: members.map((folder, m) => ({ folder, manifestSha256: manifestHashes[m]! })),
  };
  await writeManifest(dir, merged);
  return merged;
}
