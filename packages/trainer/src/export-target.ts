// Where an export may be written, and how an earlier one is replaced. An export folder carries
// a marker (kd-export.json: the sha256 of every file it holds); only a folder whose files are
// exactly those is replaced, never a regular file, a folder of other files, the working
// directory or a folder that holds the run being exported. The new export is built beside the
// old one, the old is renamed aside, the new renamed in, and only then is the old deleted, so a
// killed process leaves one of them whole; the next export finds the leftovers
// (`<out>.partial-<pid>`, `<out>.previous-<pid>`), restores or removes them and says so.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { TrainerError } from './errors.js';

export const exportMarkerFile = 'kd-export.json';
const markerFormat = 'kd-export';

const markerSchema = z.object({
  format: z.literal(markerFormat),
  formatVersion: z.literal(1),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type ExportMarker = z.infer<typeof markerSchema>;

async function pathKind(path: string): Promise<'absent' | 'file' | 'directory' | 'link' | 'other'> {
  try {
    const found = await lstat(path);
    if (found.isSymbolicLink()) return 'link';
    if (found.isDirectory()) return 'directory';
    return found.isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

/** The real path of `path`, resolving the nearest existing ancestor when it does not exist yet. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(await canonical(parent), basename(absolute));
  }
}

function isInside(inner: string, outer: string): boolean {
  const path = relative(outer, inner);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

/** Every regular file under `dir`, as paths relative to it with forward slashes. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await filesUnder(dir, path)));
    else files.push(path);
  }
  return files.sort();
}

export async function sha256OfFile(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Writes the marker listing the sha256 of every file already in `dir`; written last, so a folder with a marker is complete. */
export async function writeExportMarker(dir: string): Promise<ExportMarker> {
  const marker: ExportMarker = { format: markerFormat, formatVersion: 1, files: {} };
  for (const file of await filesUnder(dir)) marker.files[file] = await sha256OfFile(join(dir, file));
  await writeFile(join(dir, exportMarkerFile), `${JSON.stringify(marker, null, 2)}\n`);
  return marker;
}

/** Why `dir` is not a whole export written by kd (undefined when it is one: marker present, files exactly those listed, checksums equal). */
export async function exportProblem(dir: string, options: { checksums?: boolean } = {}): Promise<string | undefined> {
  let marker: ExportMarker;
  try {
    const parsed = markerSchema.safeParse(JSON.parse(await readFile(join(dir, exportMarkerFile), 'utf8')));
    if (!parsed.success) return `its ${exportMarkerFile} is not an export marker`;
    marker = parsed.data;
  } catch {
    return `it has no ${exportMarkerFile} (the marker every export written by kd carries)`;
  }
  const files = (await filesUnder(dir)).filter((file) => file !== exportMarkerFile);
  const listed = Object.keys(marker.files).sort();
  const foreign = files.filter((file) => !(file in marker.files));
  if (foreign.length > 0) return `it holds files the export did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`;
  const missing = listed.filter((file) => !files.includes(file));
  if (missing.length > 0) return `files of the export are missing (${missing.slice(0, 3).join(', ')})`;
  if (options.checksums) {
    for (const file of listed) {
      if ((await sha256OfFile(join(dir, file))) !== marker.files[file]) return `${file} does not match its sha256 in ${exportMarkerFile}`;
    }
  }
  return undefined;
}

export type ExportTargetState = 'absent' | 'empty' | 'export';

/**
 * Decides whether `outDir` may receive an export: absent, an empty folder, or (with `overwrite`)
 * an earlier export. Refuses (E_EXPORT_TARGET) anything else and any folder that is, holds or
 * lies inside one of `protectedPaths` (the run being exported) or the working directory.
 */
export async function checkExportTarget(outDir: string, options: { overwrite: boolean; protectedPaths: readonly string[] }): Promise<ExportTargetState> {
  const target = await canonical(outDir);
  const refuse = (why: string) => new TrainerError('E_EXPORT_TARGET', `will not write the export to ${outDir}: ${why}; choose another folder`);
  const workingDirectory = await canonical(process.cwd());
  if (isInside(workingDirectory, target)) throw refuse(target === workingDirectory ? 'it is the working directory' : 'it holds the working directory');
  for (const path of options.protectedPaths) {
    const guarded = await canonical(path);
    if (isInside(target, guarded) || isInside(guarded, target)) throw refuse(`it is, holds or lies inside the run being exported (${path})`);
  }
  const kind = await pathKind(outDir);
  if (kind === 'absent') return 'absent';
  if (kind !== 'directory') throw refuse(kind === 'file' ? 'it is a regular file' : `it is a ${kind === 'link' ? 'symbolic link' : 'special file'}`);
  if ((await readdir(outDir)).length === 0) return 'empty';
  if (!options.overwrite) throw new TrainerError('E_EXPORT', `${outDir} already exists; set \`overwrite\` to replace an earlier export, or choose another folder`);
  const problem = await exportProblem(outDir);
  if (problem) throw refuse(`it is not an export written by kd (${problem}), so \`overwrite\` does not replace it`);
  return 'export';
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans what killed exports to `outDir` left beside it: a `.previous-<pid>` (the old export,
 * renamed aside) is moved back when `outDir` is missing, else deleted; `.partial-<pid>` folders are
 * deleted. Folders of a process that still runs are left alone. Returns one line per action.
 */
export async function recoverInterruptedExports(outDir: string): Promise<string[]> {
  const parent = dirname(resolve(outDir));
  const name = basename(resolve(outDir));
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(partial|previous)-(\\d+)$`);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return [];
  }
  const stale = entries
    .map((entry) => ({ entry, match: pattern.exec(entry) }))
    .filter((found): found is { entry: string; match: RegExpExecArray } => found.match !== null && !processAlive(Number(found.match[2])))
    .sort((a, b) => (a.match[1] === b.match[1] ? 0 : a.match[1] === 'previous' ? -1 : 1));
  const actions: string[] = [];
  for (const { entry, match } of stale) {
    const path = join(parent, entry);
    if (match[1] === 'previous' && (await pathKind(outDir)) === 'absent' && (await exportProblem(path, { checksums: true })) === undefined) {
      await rename(path, outDir);
      actions.push(`restored ${outDir} from ${path}, the earlier export an interrupted overwrite had moved aside`);
    } else {
      await rm(path, { recursive: true, force: true });
      actions.push(`removed ${path}, left by an interrupted export`);
    }
  }
  return actions;
}

/** Moves the finished export `partial` to `outDir`, replacing what was there (see the header). */
export async function replaceExport(partial: string, outDir: string, state: ExportTargetState): Promise<void> {
  if (state === 'absent') {
    await rename(partial, outDir);
    return;
  }
  const previous = `${resolve(outDir)}.previous-${process.pid}`;
  await rm(previous, { recursive: true, force: true });
  await rename(outDir, previous);
  await rename(partial, outDir);
  await rm(previous, { recursive: true, force: true });
}
