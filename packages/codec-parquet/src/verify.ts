// `verifyDataset`: checks a dataset folder without decoding rows. The manifest is not trusted
// on its own: its header and totals are compared with what every part records about itself,
// every listed part must be present and intact, and part files it does not list are reported
// (a glob such as DuckDB's `read_parquet('…/part-*.parquet')` would read them too).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CodecError, type CodecErrorCode } from './errors.js';
import { readBytes, sha256Hex } from './files.js';
import { headerFingerprint, type Manifest, manifestDigest, type ManifestPart, readManifest, totalsOf } from './manifest.js';
import { readPartSummary } from './part-schema.js';
import { partPattern } from './writer.js';

export interface VerifyProblem {
  code: CodecErrorCode;
  problem: string;
}

export interface VerifyReport {
  /** True when the dataset is complete, every listed part is present, intact and consistent with the manifest, and no unlisted part lies beside them. */
  ok: boolean;
  /** Whether the writer was closed; an unclosed dataset fails verification (E_INCOMPLETE in `problems`). */
  complete: boolean;
  parts: { file: string; ok: boolean; code?: CodecErrorCode; problem?: string }[];
  /** `part-*.parquet` files in the folder that the manifest does not list. */
  unlisted: string[];
  /** Dataset-level problems: an unclosed writer, totals that disagree with the parts, unlisted parts. */
  problems: VerifyProblem[];
}

/** The fields of a header fingerprint (see headerFingerprint), to name which one differs. */
function fingerprintDifferences(stored: string, expected: string): string[] {
  let part: Record<string, unknown>;
  let manifest: Record<string, unknown>;
  try {
    part = JSON.parse(stored) as Record<string, unknown>;
    manifest = JSON.parse(expected) as Record<string, unknown>;
  } catch {
    return ['header: unreadable'];
  }
  const names = new Set([...Object.keys(part), ...Object.keys(manifest)]);
  const differences: string[] = [];
  for (const name of names) {
    const [inPart, inManifest] = [JSON.stringify(part[name]), JSON.stringify(manifest[name])];
    if (inPart !== inManifest) differences.push(`${name}: the part says ${inPart}, the manifest ${inManifest}`);
  }
  return differences;
}

/**
 * Checks that a part's own metadata (the header it was written under, its documents and counts)
 * agrees with what the manifest says; throws E_MANIFEST naming the first disagreement.
 */
export function checkPartAgainstManifest(bytes: Uint8Array, part: ManifestPart, manifest: Manifest): void {
  const { format, documents } = readPartSummary(bytes, part.file);
  const differences = fingerprintDifferences(format.header, headerFingerprint(manifest, manifest.quantization));
  if (format.formatVersion !== manifest.formatVersion) differences.push(`formatVersion: the part says ${format.formatVersion}, the manifest ${manifest.formatVersion}`);
  if (format.quantization !== manifest.quantization) differences.push(`quantization: the part says ${format.quantization}, the manifest ${manifest.quantization}`);
  if (JSON.stringify(format.unitHash) !== JSON.stringify(manifest.unitHash)) {
    differences.push(`unitHash: the part says ${JSON.stringify(format.unitHash)}, the manifest ${JSON.stringify(manifest.unitHash)}`);
  }
  const first = documents.index[0];
  const last = documents.index[documents.index.length - 1];
  const counts: [string, unknown, unknown][] = [
    ['documents', [first, last], part.documents],
    ['documentCount', documents.index.length, part.documentCount],
    ['tokens', format.tokens, part.tokens],
    ['rows', format.rows, part.rows],
    ['bytes', bytes.length, part.bytes],
    ['units', format.units, part.units],
    ['unitCollisions', format.unitCollisions, part.unitCollisions],
  ];
  for (const [name, inPart, inManifest] of counts) {
    if (JSON.stringify(inPart) !== JSON.stringify(inManifest)) differences.push(`${name}: the part holds ${JSON.stringify(inPart)}, the manifest says ${JSON.stringify(inManifest)}`);
  }
  if (differences.length > 0) {
    throw new CodecError('E_MANIFEST', `${part.file} disagrees with manifest.json (${differences.join('; ')}); the manifest was edited or belongs to another dataset`);
  }
}

function datasetProblems(manifest: Manifest, unlisted: string[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  if (!manifest.complete) {
    problems.push({
      code: 'E_INCOMPLETE',
      problem: `the dataset is incomplete (its writer was not closed; ${manifest.totals.documents} documents stored); run the labelling again on the folder to finish it`,
    });
  }
  const totals = totalsOf(manifest.parts);
  for (const name of Object.keys(totals) as (keyof Manifest['totals'])[]) {
    if (totals[name] !== manifest.totals[name]) {
      problems.push({ code: 'E_MANIFEST', problem: `manifest totals.${name} is ${manifest.totals[name]}, its parts add up to ${totals[name]}` });
    }
  }
  // Each folder's parts (the dataset's own, or each member's in a merged dataset) are numbered
  // from part-00000 and hold increasing documents.
  const byFolder = new Map<string, { count: number; previous: number }>();
  const members = new Set((manifest.members ?? []).map((member) => member.folder));
  for (const part of manifest.parts) {
    const slash = part.file.lastIndexOf('/');
    const folder = slash < 0 ? '' : part.file.slice(0, slash);
    if (manifest.members ? !members.has(folder) : folder !== '') {
      problems.push({ code: 'E_MANIFEST', problem: `manifest lists ${part.file}, outside ${manifest.members ? 'its members' : 'the dataset folder'}` });
    }
    const state = byFolder.get(folder) ?? { count: 0, previous: -1 };
    byFolder.set(folder, state);
    const expected = `${folder === '' ? '' : `${folder}/`}part-${String(state.count++).padStart(5, '0')}.parquet`;
    if (part.file !== expected) problems.push({ code: 'E_MANIFEST', problem: `manifest lists ${part.file} where ${expected} belongs` });
    if (part.documents[0] <= state.previous || part.documents[1] < part.documents[0]) {
      problems.push({ code: 'E_MANIFEST', problem: `${part.file}: documents ${part.documents[0]}…${part.documents[1]} do not follow document ${state.previous}` });
    }
    state.previous = part.documents[1];
  }
  if (unlisted.length > 0) {
    problems.push({
      code: 'E_MANIFEST',
      problem: `${unlisted.join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} not listed in the manifest (a part-*.parquet glob would read ${unlisted.length === 1 ? 'it' : 'them'} too); move ${unlisted.length === 1 ? 'it' : 'them'} out of the folder`,
    });
  }
  return problems;
}

/** Checks every part against the manifest (presence, size, sha256, header, metadata) and the folder for unlisted parts, without decoding rows. */
export async function verifyDataset(dir: string): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  const parts: VerifyReport['parts'] = [];
  for (const part of manifest.parts) {
    try {
      const bytes = await readBytes(join(dir, part.file));
      const found = sha256Hex(bytes);
      if (found !== part.sha256) {
        throw new CodecError('E_CHECKSUM', `${part.file}: sha256 mismatch (expected ${part.sha256}, got ${found}); the part is damaged`);
      }
      checkPartAgainstManifest(bytes, part, manifest);
      parts.push({ file: part.file, ok: true });
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      parts.push({ file: part.file, ok: false, code: error.code, problem: error.message });
    }
  }
  const listed = new Set(manifest.parts.map((part) => part.file));
  const folders = manifest.members ? manifest.members.map((member) => member.folder) : [''];
  const unlisted: string[] = [];
  for (const folder of folders) {
    const prefix = folder === '' ? '' : `${folder}/`;
    let entries: string[] = [];
    try {
      entries = await readdir(join(dir, folder));
    } catch {
      // A missing member folder shows as its missing parts.
    }
    for (const entry of entries) if (partPattern.test(entry) && !listed.has(prefix + entry)) unlisted.push(prefix + entry);
  }
  unlisted.sort();
  const problems = datasetProblems(manifest, unlisted);
  if (manifest.members) problems.push(...(await memberProblems(dir, manifest)));
  return { ok: parts.every((part) => part.ok) && problems.length === 0, complete: manifest.complete, parts, unlisted, problems };
}

/** A merged dataset's own checks: its members' manifests are the ones merged, and no document is in two members. */
async function memberProblems(dir: string, manifest: Manifest): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const member of manifest.members ?? []) {
    let found: string;
    try {
      found = manifestDigest(await readManifest(join(dir, member.folder)));
    } catch (error) {
      problems.push({ code: 'E_MANIFEST', problem: `member ${member.folder}: ${(error as Error).message}` });
      continue;
    }
    if (found !== member.manifestSha256) {
      problems.push({ code: 'E_MANIFEST', problem: `member ${member.folder}: its manifest.json changed since the merge (it was labelled again?); merge the dataset again` });
    }
  }
  const duplicate = await firstDuplicateDocument(dir, manifest.parts);
  if (duplicate) problems.push({ code: 'E_MANIFEST', problem: `document ${duplicate.index} is stored twice: in ${duplicate.files[0]} and in ${duplicate.files[1]}` });
  return problems;
}

/** The first corpus index that two parts both hold, read from the parts' own document lists. */
export async function firstDuplicateDocument(dir: string, parts: readonly ManifestPart[]): Promise<{ index: number; files: [string, string] } | undefined> {
  const holder = new Map<number, number>();
  for (const [p, part] of parts.entries()) {
    let indices: readonly number[];
    try {
      indices = readPartSummary(await readBytes(join(dir, part.file)), part.file).documents.index;
    } catch {
      continue; // reported by the part checks
    }
    for (const index of indices) {
      const earlier = holder.get(index);
      if (earlier !== undefined) return { index, files: [parts[earlier]!.file, part.file] };
      holder.set(index, p);
    }
  }
  return undefined;
}
