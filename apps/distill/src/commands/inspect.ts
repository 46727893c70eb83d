// `kd inspect DIR`: what a labelled dataset holds (manifest, bytes per token, kept entries,
// tail mass), one document decoded back to text with its top tokens, and `--verify`
// checksums every part.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { datasetStats, openDataset, verifyDataset, type Manifest, type VerifyReport } from '@kd/codec-parquet';
import { describeSpec, rowAt, type LabelledDocument } from '@kd/compress';
import { loadTeacher, measureFidelity } from '@kd/teacher';
import { loadTokenizer, type Tokenizer } from '@kd/text';
import { CliError } from '../errors.js';
import { defineCommand } from '../define-command.js';
import { defaultTeacherDir } from '../paths.js';

const inspectSchema = z
  .object({
    verify: z.boolean().default(false).describe('check every part against the manifest (sha256, header, counts), look for unlisted parts and require a complete dataset (exit ≠ 0 otherwise)'),
    json: z.boolean().default(false).describe('print one JSON object (tokens, bytes, bytesPerToken, meanKept, meanTailMass, manifest, sample)'),
    tokenizer: z.string().min(1).optional().describe("the teacher's tokenizer.json, to show token text"),
    document: z.number().int().min(0).default(0).describe('which document to show'),
    positions: z.number().int().min(0).default(8).describe('how many positions of it to show'),
    top: z.number().int().min(1).default(5).describe('top entries shown per position'),
    fidelity: z.boolean().default(false).describe('measure decoded rows against the full teacher softmax on a sample of positions (captured mass, KL, top-1 agreement, ECE)'),
    teacher: z.string().min(1).optional().describe('fidelity: the teacher that labelled the dataset'),
    sampleDocuments: z.number().int().min(1).default(32).describe('fidelity: documents measured, spread over the dataset (first 256 positions of each)'),
  })
  .strict();
type InspectOptions = z.output<typeof inspectSchema>;

interface SamplePosition {
  position: number;
  token: string;
  tailMass: number;
  top: { id: number; token: string; prob: number }[];
}

/** The teacher tokenizer that matches the manifest, if one can be found: for showing token text. */
async function matchingTokenizer(manifest: Manifest, given: string | undefined): Promise<Tokenizer | undefined> {
  if (given) {
    const tokenizer = await loadTokenizer(given);
    if (tokenizer.sha256 !== manifest.tokenizer.sha256) {
      throw new CliError('E_TOKENIZER_MISMATCH', `--tokenizer ${given} has sha256 ${tokenizer.sha256}, the dataset was labelled with ${manifest.tokenizer.sha256}; pass the teacher's own tokenizer.json`);
    }
    return tokenizer;
  }
  const fallback = defaultTeacherDir();
  if (!fallback || !existsSync(join(fallback, 'tokenizer.json'))) return undefined;
  const tokenizer = await loadTokenizer(join(fallback, 'tokenizer.json'));
  return tokenizer.sha256 === manifest.tokenizer.sha256 ? tokenizer : undefined;
}

async function sampleDocument(dir: string, index: number): Promise<LabelledDocument | undefined> {
  const dataset = await openDataset(dir, { allowIncomplete: true });
  let seen = 0;
  for await (const document of dataset.documents()) {
    if (seen++ === index) return document;
  }
  return undefined;
}

function describeSample(document: LabelledDocument, tokenizer: Tokenizer | undefined, options: InspectOptions): SamplePosition[] {
  const name = (id: number) => tokenizer?.token(id) ?? `#${id}`;
  const positions: SamplePosition[] = [];
  const count = Math.min(options.positions, document.rows.length);
  for (let position = 0; position < count; position++) {
    const row = rowAt(document.rows, position);
    const top = [];
    for (let j = 0; j < Math.min(options.top, row.ids.length); j++) top.push({ id: row.ids[j]!, token: name(row.ids[j]!), prob: row.probs[j]! });
    positions.push({ position, token: name(document.tokenIds[position]!), tailMass: row.tailMass, top });
  }
  return positions;
}

/** One line that says what failed and the recovery that works for it. */
function verificationFailure(report: VerifyReport): CliError {
  const bad = report.parts.filter((part) => !part.ok);
  const causes: string[] = [];
  const advice: string[] = [];
  if (bad.length > 0) {
    causes.push(`${bad.length} part(s) failed verification: ${bad.map((part) => `${part.file} (${part.problem})`).join('; ')}`);
    if (bad.some((part) => part.code === 'E_CHECKSUM' || part.code === 'E_IO')) {
      advice.push('delete the damaged part file(s) and run the same kd label command on the folder again: it relabels from the first deleted part on');
    }
    if (bad.some((part) => part.code === 'E_MANIFEST' || part.code === 'E_PART_FORMAT')) {
      advice.push('restore manifest.json from a copy, or label the corpus into a new folder');
    }
  }
  for (const problem of report.problems) causes.push(problem.problem);
  const code = bad[0]?.code ?? report.problems[0]?.code ?? 'E_MANIFEST';
  return new CliError(code, [...causes, ...advice].join('; '));
}

/** The fidelity report: decoded rows against the labelling teacher's full softmax on a sample. */
async function fidelityOf(folder: string, manifest: Manifest, stats: Awaited<ReturnType<typeof datasetStats>>, options: InspectOptions) {
  const teacherDir = options.teacher ? resolve(options.teacher) : defaultTeacherDir();
  if (!teacherDir) throw new CliError('E_USAGE', 'fidelity needs the teacher that labelled the dataset: pass --teacher DIR');
  const teacher = await loadTeacher(teacherDir, { temperature: manifest.temperature });
  try {
    if (teacher.modelSha256 !== manifest.teacher.sha256) {
      throw new CliError('E_TEACHER_MISMATCH', `${teacherDir} holds a model with sha256 ${teacher.modelSha256}, the dataset was labelled by ${manifest.teacher.id} (sha256 ${manifest.teacher.sha256}); pass --teacher with that model`);
    }
    const dataset = await openDataset(folder, { allowIncomplete: true });
    const report = await measureFidelity(teacher, dataset.documents(), { totalDocuments: stats.documents, sampleDocuments: options.sampleDocuments });
    const entries = stats.meanKept * stats.rows;
    return { ...report, documents: Math.min(options.sampleDocuments, stats.documents), bytesPerToken: stats.bytesPerToken, bytesPerEntry: entries > 0 ? stats.bytes / entries : 0 };
  } finally {
    await teacher.close();
  }
}

export async function runInspect(dir: string, options: InspectOptions, log: (line: string) => void = console.log): Promise<number> {
  const folder = resolve(dir);
  if (!existsSync(join(folder, 'manifest.json'))) {
    throw new CliError('E_USAGE', `${dir} has no manifest.json: pass a folder written by kd label`);
  }
  const verification = options.verify ? await verifyDataset(folder) : undefined;
  // A damaged part may not even decode its small columns: report the verification alone.
  if (verification && verification.parts.some((part) => !part.ok)) {
    if (options.json) log(JSON.stringify({ verify: verification }));
    else for (const part of verification.parts) log(`verify ${part.file}: ${part.ok ? 'ok' : `FAILED — ${part.problem}`}`);
    throw verificationFailure(verification);
  }
  const stats = await datasetStats(folder);
  const { manifest } = await openDataset(folder, { allowIncomplete: true, verify: false });
  const document = verification && !verification.ok ? undefined : await sampleDocument(folder, options.document);
  const tokenizer = await matchingTokenizer(manifest, options.tokenizer);
  const fidelity = options.fidelity ? await fidelityOf(folder, manifest, stats, options) : undefined;
  const sample = document && {
    index: document.index,
    id: document.id,
    task: document.task,
    text: document.text,
    positions: describeSample(document, tokenizer, options),
  };
  if (options.json) {
    // The fidelity figures also at the top level (bytesPerEntry, capturedMass, klFullDecoded, top1Agreement, ece); the dataset's own stats win where names meet (meanKept).
    log(JSON.stringify({ ...(fidelity ?? {}), ...stats, fidelity, manifest, sample, verify: verification }));
  } else {
    const spec = manifest.compression;
    log(`dataset     ${folder}`);
    log(`format      v${manifest.formatVersion}, ${manifest.complete ? 'complete' : 'INCOMPLETE (run kd label again on it to resume)'}`);
    log(`teacher     ${manifest.teacher.id} (sha256 ${manifest.teacher.sha256.slice(0, 16)}…), tokenizer sha256 ${manifest.tokenizer.sha256.slice(0, 16)}…`);
    log(`vocabulary  ${manifest.vocabSize}, temperature ${manifest.temperature}`);
    log(`compression ${describeSpec(spec)}, quantization ${manifest.quantization}`);
    log(`parts       ${stats.parts}, documents ${stats.documents}, tokens ${stats.tokens}`);
    log(`bytes       ${stats.bytes} (${stats.bytesPerToken.toFixed(2)} bytes/token)`);
    log(`mean kept   ${stats.meanKept.toFixed(2)} entries, mean tail mass ${stats.meanTailMass.toFixed(4)}`);
    if (fidelity) {
      log(
        `fidelity    ${fidelity.positions} positions of ${fidelity.documents} documents against the full softmax: ${fidelity.bytesPerEntry.toFixed(3)} bytes/entry, ` +
          `captured mass ${fidelity.capturedMass.toFixed(4)}, KL(full‖decoded) ${fidelity.klFullDecoded.toFixed(4)} nats, top-1 agreement ${(100 * fidelity.top1Agreement).toFixed(1)}%, ` +
          `ECE ${fidelity.ece.toFixed(4)} (full softmax ${fidelity.eceFull.toFixed(4)})`,
      );
    }
    if (sample) {
      log('');
      log(`document ${sample.index} (${sample.id}${sample.task ? `, ${sample.task}` : ''}), decoded back to text:`);
      log(`  ${JSON.stringify(sample.text.length > 400 ? `${sample.text.slice(0, 400)}…` : sample.text)}`);
      log(tokenizer ? 'top tokens per position (the prediction for the next token):' : 'top ids per position (pass --tokenizer to show token text):');
      for (const position of sample.positions) {
        const top = position.top.map((entry) => `${JSON.stringify(entry.token)} ${entry.prob.toFixed(3)}`).join(', ');
        log(`  ${String(position.position).padStart(4)} ${JSON.stringify(position.token).padEnd(16)} → ${top}  (tail ${position.tailMass.toFixed(3)})`);
      }
    }
    if (verification) {
      for (const part of verification.parts) log(`verify ${part.file}: ${part.ok ? 'ok' : `FAILED — ${part.problem}`}`);
      for (const problem of verification.problems) log(`verify dataset: FAILED — ${problem.problem}`);
    }
  }
  if (verification && !verification.ok) throw verificationFailure(verification);
  return 0;
}

export function inspectCommand(): Command {
  return defineCommand({
    name: 'inspect',
    description: 'Show what a labelled dataset holds; --verify checks every part',
    argument: { name: 'dir', description: 'dataset folder written by kd label' },
    own: inspectSchema,
    fallbacks: { teacher: { shown: 'examples/teacher of a repository checkout', value: () => undefined } },
    examples: [
      'kd inspect out/dev-labels --verify',
      'kd inspect out/dev-labels --json | jq .bytesPerToken',
      'kd inspect out/dev-labels --fidelity --teacher examples/teacher --json',
    ],
    run: async (_library, options, dir) => {
      await runInspect(dir!, options);
    },
  });
}
