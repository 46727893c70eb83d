// manifest.json: the self-description of a labelled dataset (who labelled it, how, which parts
// hold which documents, their checksums) and its validation when read back from disk.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { validateSpec, type CompressionSpec } from '@kd/compress';
import { CodecError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { quantizationSchemes, type QuantizationScheme } from './quantization.js';

/** The version this code writes. */
export const formatVersion = 2;
/** Versions this code reads: 1 (ids rank-rice) and 2 (ids context-huffman); the rest of the layout is the same. */
export const readableFormatVersions = [1, 2] as const;
export const formatName = 'kd-labelled-dataset';
/** The id packing of each format version (id-packing.ts for 1, id-context-coding.ts for 2). */
export const idPackingOf = { 1: 'rank-rice', 2: 'context-huffman' } as const;
export const idPacking = idPackingOf[formatVersion];
export const manifestFile = 'manifest.json';

/** What the labelling run says about itself; the writer stores it and resume compares it. */
export interface ManifestHeader {
  teacher: { id: string; sha256: string };
  tokenizer: { sha256: string };
  vocabSize: number;
  temperature: number;
  compression: CompressionSpec;
  corpus?: { path: string };
  /**
   * What the producer records about its inputs and settings (e.g. @kd/pipeline's corpus
   * fingerprint and labelling settings). Stored as given; the producer compares it on resume.
   */
  source?: Record<string, unknown>;
}

export interface ManifestPart {
  /** The part's file, relative to the dataset folder (in a merged dataset: `member/part-NNNNN.parquet`). */
  file: string;
  /** Corpus indices of the first and last document in the part. */
  documents: [number, number];
  documentCount: number;
  /** Token positions: Parquet rows. */
  tokens: number;
  /** Positions that carry a sparse distribution. */
  rows: number;
  bytes: number;
  sha256: string;
  /** Distinct data units in the part's unit table. */
  units: number;
  /** Units whose hash code was taken and which were moved to the next free code. */
  unitCollisions: number;
  /** Fingerprint of the part's documents (index, task, text), see `DocumentsHasher`. */
  documentsSha256?: string;
}

export interface Manifest extends ManifestHeader {
  format: typeof formatName;
  formatVersion: (typeof readableFormatVersions)[number];
  quantization: QuantizationScheme;
  idPacking: (typeof idPackingOf)[keyof typeof idPackingOf];
  unitHash: { name: 'fnv1a'; bits: number; seed: number };
  parts: ManifestPart[];
  totals: { parts: number; documents: number; tokens: number; rows: number; bytes: number };
  /** True once the writer was closed; a killed run leaves false. */
  complete: boolean;
  /**
   * A merged dataset (see `mergeDatasets`): the member datasets, each a subfolder with its own
   * manifest, whose parts this manifest lists in place. Absent for a dataset a writer wrote.
   */
  members?: ManifestMember[];
}

export interface ManifestMember {
  /** Subfolder of the merged dataset's folder. */
  folder: string;
  /** `manifestDigest` of the member's manifest as merged: a member changed since is noticed. */
  manifestSha256: string;
}

const count = z.number().int().nonnegative();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

const sampling = { samples: z.number().int().positive(), proposalTemperature: z.number().positive().finite(), seed: z.number().int().nonnegative() };

const compressionSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), k: z.number().int().positive() }),
  z
    .object({ mode: z.literal('adaptive'), p: z.number().gt(0).lte(1), kMin: z.number().int().positive(), kMax: z.number().int().positive() })
    .refine((spec) => spec.kMin <= spec.kMax, 'kMin must not exceed kMax'),
  z.object({ mode: z.literal('sampled'), ...sampling }),
  z
    .object({ mode: z.literal('hybrid'), p: z.number().gt(0).lte(1), kMin: z.number().int().positive(), kMax: z.number().int().positive(), ...sampling })
    .refine((spec) => spec.kMin <= spec.kMax, 'kMin must not exceed kMax'),
]);

export const headerSchema = z.object({
  teacher: z.object({ id: z.string().min(1), sha256 }),
  tokenizer: z.object({ sha256 }),
  vocabSize: z.number().int().min(2).max(2 ** 31),
  temperature: z.number().positive().finite(),
  compression: compressionSchema,
  corpus: z.object({ path: z.string() }).optional(),
  source: z.record(z.string(), z.unknown()).optional(),
});

const partSchema = z.object({
  // A member folder name never starts with a dot, so no path leaves the dataset folder.
  file: z.string().regex(/^(?:[\w-][\w.-]*\/)?part-\d{5,}\.parquet$/),
  documents: z.tuple([count, count]),
  documentCount: count,
  tokens: count,
  rows: count,
  bytes: count,
  sha256,
  units: count,
  unitCollisions: count,
  documentsSha256: sha256.optional(),
});

const manifestSchema = headerSchema.extend({
  format: z.literal(formatName),
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  quantization: z.enum(quantizationSchemes as [QuantizationScheme, ...QuantizationScheme[]]),
  idPacking: z.enum(['rank-rice', 'context-huffman']),
  unitHash: z.object({ name: z.literal('fnv1a'), bits: z.number().int().min(1).max(32), seed: z.number().int() }),
  parts: z.array(partSchema),
  totals: z.object({ parts: count, documents: count, tokens: count, rows: count, bytes: count }),
  complete: z.boolean(),
  members: z.array(z.object({ folder: z.string().regex(/^[\w-][\w.-]*$/), manifestSha256: sha256 })).optional(),
});

/** Validates a header handed to the writer (E_INPUT on a bad one). */
export function parseHeader(header: unknown): ManifestHeader {
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) {
    throw new CodecError('E_INPUT', `invalid dataset header: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data as ManifestHeader;
}

/** The fields that must agree for two runs to write into one dataset. */
export function headerFingerprint(header: ManifestHeader, quantization: QuantizationScheme): string {
  return JSON.stringify({
    teacher: header.teacher.sha256,
    tokenizer: header.tokenizer.sha256,
    vocabSize: header.vocabSize,
    temperature: header.temperature,
    compression: header.compression,
    quantization,
  });
}

/** Lists, field by field, how `found` differs from `expected` (empty when they agree). */
export function headerDifferences(expected: Manifest, found: ManifestHeader, quantization: QuantizationScheme): string[] {
  const differences: string[] = [];
  const compare = (name: string, stored: unknown, given: unknown) => {
    if (JSON.stringify(stored) !== JSON.stringify(given)) {
      differences.push(`${name}: dataset has ${JSON.stringify(stored)}, this run has ${JSON.stringify(given)}`);
    }
  };
  compare('teacher.sha256', expected.teacher.sha256, found.teacher.sha256);
  compare('tokenizer.sha256', expected.tokenizer.sha256, found.tokenizer.sha256);
  compare('vocabSize', expected.vocabSize, found.vocabSize);
  compare('temperature', expected.temperature, found.temperature);
  compare('compression', canonicalSpec(expected.compression), canonicalSpec(found.compression));
  compare('quantization', expected.quantization, quantization);
  return differences;
}

function canonicalSpec(spec: CompressionSpec): CompressionSpec {
  // validateSpec returns exactly the spec's own keys, in one order, for every mode.
  return validateSpec(spec);
}

export function totalsOf(parts: readonly ManifestPart[]): Manifest['totals'] {
  const totals = { parts: parts.length, documents: 0, tokens: 0, rows: 0, bytes: 0 };
  for (const part of parts) {
    totals.documents += part.documentCount;
    totals.tokens += part.tokens;
    totals.rows += part.rows;
    totals.bytes += part.bytes;
  }
  return totals;
}

/** Reads and validates `dir/manifest.json`; E_FORMAT_VERSION for another version, E_MANIFEST otherwise. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, manifestFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CodecError('E_MANIFEST', `no readable ${manifestFile} in ${dir}: ${(cause as Error).message}; is this a dataset folder written by @kd/codec-parquet?`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CodecError('E_MANIFEST', `${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (!(readableFormatVersions as readonly unknown[]).includes(version)) {
    const advice =
      typeof version === 'number' && version > formatVersion
        ? 'it was written by a newer @kd/codec-parquet; upgrade this package to read it'
        : 'relabel the corpus with this version, or read it with the version that wrote it';
    throw new CodecError('E_FORMAT_VERSION', `${path}: expected format version ${readableFormatVersions.join(' or ')}, found ${JSON.stringify(version)}; ${advice}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new CodecError('E_MANIFEST', `${path} does not match the manifest schema: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.idPacking !== idPackingOf[parsed.data.formatVersion]) {
    throw new CodecError('E_MANIFEST', `${path}: format version ${parsed.data.formatVersion} packs ids as ${idPackingOf[parsed.data.formatVersion]}, not ${parsed.data.idPacking}`);
  }
  return parsed.data as Manifest;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFileAtomic(join(dir, manifestFile), new TextEncoder().encode(text));
}

/** sha256 of a manifest's content as JSON with keys sorted: the same for the same content, however the file orders its keys. */
export function manifestDigest(manifest: Manifest): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])]));
  };
  return createHash('sha256').update(JSON.stringify(sorted(manifest))).digest('hex');
}
