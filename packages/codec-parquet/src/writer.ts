// The dataset writer: buffers documents into parts, writes each part crash-safely (temporary
// name, fsync, rename) and rewrites the manifest after every part, so a killed run can resume
// from what is on disk and lose or duplicate nothing.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelledDocument } from '@kd/compress';
import { DocumentsHasher } from './document-hash.js';
import { CodecError } from './errors.js';
import { readBytes, sha256Hex, writeFileAtomic } from './files.js';
import {
  formatName,
  formatVersion,
  headerDifferences,
  headerFingerprint,
  idPacking,
  type Manifest,
  type ManifestHeader,
  type ManifestPart,
  manifestFile,
  parseHeader,
  readManifest,
  totalsOf,
  writeManifest,
} from './manifest.js';
import { PartBuilder } from './part-builder.js';
import { readPartParquet, readPartSummary } from './part-schema.js';
import { decodeDocuments } from './reader.js';
import { defaultQuantization, quantizationSchemes, type QuantizationScheme } from './quantization.js';
import type { UnitHashOptions } from './units.js';

export interface DatasetWriterOptions {
  /** Target token positions (Parquet rows) per part; parts end at document boundaries. Default 262144. */
  rowsPerPart?: number;
  /** Probability quantization (default `u8-log`); on resume, defaults to the dataset's own. */
  quantization?: QuantizationScheme;
  /** Continue a dataset this folder already holds instead of refusing it. */
  resume?: boolean;
  /** Hash width and seed of data-unit codes. Narrow widths make collisions likely; for tests. */
  unitHash?: UnitHashOptions;
}

export interface DatasetWriter {
  /** Documents with a corpus index below this are safely stored; skip them when feeding the writer. */
  readonly resumeFrom: number;
  /** Parts resume found missing (deleted because damaged) and the parts after them: their documents are written again. */
  readonly relabelled: readonly string[];
  /** Buffers a document (corpus index order, increasing) and writes a part once enough rows are buffered. */
  append(document: LabelledDocument): Promise<void>;
  /** Writes the last part and marks the dataset complete. */
  close(): Promise<Manifest>;
}

export const defaultRowsPerPart = 262_144;
export const partPattern = /^part-(\d{5,})\.parquet$/;

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.parquet`;
}

/** Opens `dir` for writing a labelled dataset; see {@link DatasetWriterOptions}. */
export async function openDatasetWriter(dir: string, header: ManifestHeader, options: DatasetWriterOptions = {}): Promise<DatasetWriter> {
  const checkedHeader = parseHeader(header);
  const rowsPerPart = options.rowsPerPart ?? defaultRowsPerPart;
  if (!Number.isInteger(rowsPerPart) || rowsPerPart < 1) {
    throw new CodecError('E_INPUT', `rowsPerPart must be a positive integer; got ${rowsPerPart}`);
  }
  if (options.quantization !== undefined && !quantizationSchemes.includes(options.quantization)) {
    throw new CodecError('E_INPUT', `unknown quantization ${JSON.stringify(options.quantization)}; expected one of ${quantizationSchemes.join(', ')}`);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new CodecError('E_IO', `cannot create dataset folder ${dir}: ${(cause as Error).message}`, { cause });
  }
  const entries = await readdir(dir);
  const hasManifest = entries.includes(manifestFile);

  let manifest: Manifest;
  let dropped: string[] = [];
  if (options.resume && hasManifest) {
    manifest = await readManifest(dir);
    if (manifest.formatVersion !== formatVersion) {
      throw new CodecError(
        'E_FORMAT_VERSION',
        `cannot resume ${dir}: it is stored in format version ${manifest.formatVersion}, and this version writes ${formatVersion}; ` +
          'it still reads as it is: finish it with the version that wrote it, or label into a new folder',
      );
    }
    if (manifest.members) {
      throw new CodecError('E_EXISTS', `cannot resume ${dir}: it is a merged dataset of ${manifest.members.length} members, not one writer's; write into a member folder or a new folder`);
    }
    const quantization = options.quantization ?? manifest.quantization;
    const differences = headerDifferences(manifest, checkedHeader, quantization);
    if (differences.length > 0) {
      throw new CodecError(
        'E_HEADER_MISMATCH',
        `cannot resume ${dir}: it was labelled differently (${differences.join('; ')}); rerun with the original settings or write to a new folder`,
      );
    }
    if (options.unitHash && (options.unitHash.bits ?? 32) !== manifest.unitHash.bits) {
      throw new CodecError('E_HEADER_MISMATCH', `cannot resume ${dir}: unit hash width ${manifest.unitHash.bits} bits stored, ${options.unitHash.bits} given`);
    }
    dropped = await recoverFolder(dir, manifest, entries);
    manifest.complete = false;
  } else {
    if (entries.length > 0) {
      throw new CodecError(
        'E_EXISTS',
        options.resume
          ? `cannot resume ${dir}: it holds files but no ${manifestFile}; choose an empty folder`
          : `dataset folder ${dir} is not empty; pass { resume: true } to continue the dataset in it, or choose another folder`,
      );
    }
    manifest = {
      format: formatName,
      formatVersion,
      ...checkedHeader,
      quantization: options.quantization ?? defaultQuantization,
      idPacking,
      unitHash: { name: 'fnv1a', bits: options.unitHash?.bits ?? 32, seed: options.unitHash?.seed ?? 0 },
      parts: [],
      totals: totalsOf([]),
      complete: false,
    };
  }
  // Written before any part exists so that every later state of the folder has a manifest.
  await writeManifest(dir, manifest);
  return new Writer(dir, manifest, rowsPerPart, dropped);
}

/**
 * Brings a folder left by a killed run back to a consistent state: stray temporary files are
 * removed, and a part that was renamed into place but not yet listed (the run died between the
 * rename and the manifest update) is checked and adopted. A listed part that is missing is
 * labelled again with every part after it (their files are deleted and their names returned).
 * Any other unlisted part means the folder was changed by hand; that is reported, never guessed at.
 */
async function recoverFolder(dir: string, manifest: Manifest, entries: string[]): Promise<string[]> {
  for (const entry of entries) {
    if (entry.endsWith('.tmp')) await rm(join(dir, entry), { force: true });
  }
  let firstMissing = -1;
  for (const [i, part] of manifest.parts.entries()) {
    let size: number;
    try {
      size = (await stat(join(dir, part.file))).size;
    } catch {
      firstMissing = i;
      break;
    }
    if (size !== part.bytes) {
      throw new CodecError(
        'E_CHECKSUM',
        `cannot resume ${dir}: ${part.file} has ${size} bytes, the manifest recorded ${part.bytes}; delete it to have it relabelled, restore it, or start a new folder`,
      );
    }
  }
  // A listed part that was deleted (the recovery for a damaged one) is labelled again, and with
  // it every later part: documents are stored in corpus order, so the dataset resumes before it.
  // Later parts go first, so a kill in between leaves a folder this function recovers the same way.
  const dropped = firstMissing >= 0 ? manifest.parts.slice(firstMissing).map((part) => part.file) : [];
  for (const file of dropped) await rm(join(dir, file), { force: true });
  if (dropped.length > 0) {
    manifest.parts = manifest.parts.slice(0, firstMissing);
    entries = entries.filter((entry) => !dropped.includes(entry));
  }
  const listed = new Set(manifest.parts.map((part) => part.file));
  const unlisted = entries.filter((entry) => partPattern.test(entry) && !listed.has(entry)).sort();
  const fingerprint = headerFingerprint(manifest, manifest.quantization);
  for (const file of unlisted) {
    const expected = partFileName(manifest.parts.length);
    const problem = (what: string) =>
      new CodecError('E_MANIFEST', `cannot resume ${dir}: ${file} is not listed in the manifest and ${what}; move it away to resume without it`);
    if (file !== expected) throw problem(`is not the next part (${expected})`);
    const bytes = await readBytes(join(dir, file));
    let summary;
    try {
      summary = readPartSummary(bytes, file);
    } catch (cause) {
      throw problem(`is not a readable part (${(cause as Error).message})`);
    }
    const { format, documents } = summary;
    if (format.header !== fingerprint) throw problem('was written under another header');
    const last = manifest.parts.at(-1);
    if (documents.index.length === 0 || (last && documents.index[0] <= last.documents[1])) {
      throw problem('does not continue the documents already stored');
    }
    const hasher = new DocumentsHasher();
    for (const document of decodeDocuments(readPartParquet(bytes, file), file, manifest.vocabSize)) hasher.add(document);
    manifest.parts.push({
      file,
      documents: [documents.index[0], documents.index[documents.index.length - 1]],
      documentCount: documents.index.length,
      tokens: format.tokens,
      rows: format.rows,
      bytes: bytes.length,
      sha256: sha256Hex(bytes),
      units: format.units,
      unitCollisions: format.unitCollisions,
      documentsSha256: hasher.digest(),
    });
  }
  manifest.totals = totalsOf(manifest.parts);
  return dropped;
}

class Writer implements DatasetWriter {
  readonly resumeFrom: number;
  private builder: PartBuilder;
  private hasher = new DocumentsHasher();
  private lastIndex: number;
  private closed = false;
  /** Calls run one after another even when a caller does not await them. */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown = undefined;

  constructor(
    private readonly dir: string,
    private readonly manifest: Manifest,
    private readonly rowsPerPart: number,
    readonly relabelled: readonly string[],
  ) {
    const last = manifest.parts.at(-1);
    this.resumeFrom = last ? last.documents[1] + 1 : 0;
    this.lastIndex = this.resumeFrom - 1;
    this.builder = this.newBuilder();
  }

  private newBuilder(): PartBuilder {
    const { manifest } = this;
    return new PartBuilder(manifest.quantization, manifest.vocabSize, { bits: manifest.unitHash.bits, seed: manifest.unitHash.seed }, headerFingerprint(manifest, manifest.quantization));
  }

  private run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.queue.then(() => {
      if (this.failure !== undefined) throw this.failure;
      if (this.closed) throw new CodecError('E_CLOSED', `the writer of ${this.dir} is closed; open a new one with { resume: true } to add documents`);
      return step();
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  append(document: LabelledDocument): Promise<void> {
    return this.run(async () => {
      if (!Number.isInteger(document.index) || document.index <= this.lastIndex) {
        throw new CodecError(
          'E_INPUT',
          `document index ${document.index} does not follow ${this.lastIndex}; documents are appended in increasing corpus index order` +
            (this.resumeFrom > 0 ? ` (this dataset resumes at index ${this.resumeFrom}: skip documents below it)` : ''),
        );
      }
      this.builder.add(document);
      this.hasher.add(document);
      this.lastIndex = document.index;
      if (this.builder.tokens >= this.rowsPerPart) await this.flush();
    });
  }

  close(): Promise<Manifest> {
    return this.run(async () => {
      if (this.builder.documentCount > 0) await this.flush();
      this.manifest.complete = true;
      await this.persistManifest();
      this.closed = true;
      return structuredClone(this.manifest);
    });
  }

  private async flush(): Promise<void> {
    try {
      const built = this.builder.build();
      const file = partFileName(this.manifest.parts.length);
      await writeFileAtomic(join(this.dir, file), built.bytes);
      const part: ManifestPart = {
        file,
        documents: [built.firstDocument, built.lastDocument],
        documentCount: built.documentCount,
        tokens: built.tokens,
        rows: built.rows,
        bytes: built.bytes.length,
        sha256: sha256Hex(built.bytes),
        units: built.units,
        unitCollisions: built.unitCollisions,
        documentsSha256: this.hasher.digest(),
      };
      this.manifest.parts.push(part);
      await this.persistManifest();
      this.builder = this.newBuilder();
      this.hasher = new DocumentsHasher();
    } catch (error) {
      // The buffered documents are lost to this writer; resuming recovers from disk.
      this.failure = error;
      throw error;
    }
  }

  private async persistManifest(): Promise<void> {
    this.manifest.totals = totalsOf(this.manifest.parts);
    await writeManifest(this.dir, this.manifest);
  }
}
