// Each published package, installed alone as a user would: packed with `pnpm pack` (workspace
// ranges become versions), installed with npm into an empty folder outside the repository (its
// @kd dependencies given as their packed tarballs, ONNXRUNTIME_NODE_INSTALL=skip), then checked:
// node_modules size and package count, ESM import time, require(), and strict tsc (no
// skipLibCheck) on a consumer file for both the import and the require condition; @kd/trainer
// also trains from both (tools/trainer-install-check.ts).
//
//   npx -y pnpm@10.34.9 build && npx tsx tools/package-check.ts [--only @kd/text,@kd/trainer] [--write]
//
// --write puts the table into docs/BENCHMARKS.md under "Packages installed alone".
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSection } from '../bench/report.js';
import { checkTrainerInstall } from './trainer-install-check.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pnpm = ['-y', 'pnpm@10.34.9'];
const { values } = parseArgs({ options: { only: { type: 'string' }, write: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: unknown;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Row {
  name: string;
  installOk: boolean;
  bytes: number;
  packages: number;
  importMs?: number;
  requireOk?: boolean;
  tscImport?: boolean;
  tscRequire?: boolean;
  notes: string[];
}

function published(): { dir: string; manifest: Manifest }[] {
  const found: { dir: string; manifest: Manifest }[] = [];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = join(root, group, entry);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      if (!manifest.private) found.push({ dir, manifest });
    }
  }
  return found;
}

/** Bytes of every file under `dir` (what `du -b` counts for files). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** Installed packages: every folder under node_modules (nested ones too) with a package.json. */
function countPackages(nodeModules: string): number {
  if (!existsSync(nodeModules)) return 0;
  let count = 0;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const folders = entry.name.startsWith('@') ? readdirSync(join(nodeModules, entry.name)).map((name) => join(nodeModules, entry.name, name)) : [join(nodeModules, entry.name)];
    for (const folder of folders) {
      if (!existsSync(join(folder, 'package.json'))) continue;
      count++;
      count += countPackages(join(folder, 'node_modules'));
    }
  }
  return count;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The @kd packages `name` needs, itself included, in dependency order. */
function closure(name: string, byName: Map<string, Manifest>): string[] {
  const out: string[] = [];
  const visit = (current: string) => {
    if (out.includes(current)) return;
    for (const dependency of Object.keys(byName.get(current)?.dependencies ?? {})) if (byName.has(dependency)) visit(dependency);
    out.push(current);
  };
  visit(name);
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const work = mkdtempSync(join(tmpdir(), 'kd-package-check-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const packages = published();
const byName = new Map(packages.map(({ manifest }) => [manifest.name, manifest]));
const wanted = values.only ? values.only.split(',') : packages.map(({ manifest }) => manifest.name);

// Pack every package (pnpm replaces workspace:^ with the versions).
const tarballOf = new Map<string, string>();
for (const { dir, manifest } of packages) {
  if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name}: no dist/ in ${dir}; run \`npx -y pnpm@10.34.9 build\` first`);
  const before = new Set(readdirSync(tarballs));
  execFileSync('npx', [...pnpm, 'pack', '--pack-destination', tarballs], { cwd: dir, stdio: 'pipe' });
  const made = readdirSync(tarballs).find((file) => !before.has(file));
  if (!made) throw new Error(`${manifest.name}: pnpm pack made no tarball`);
  tarballOf.set(manifest.name, join(tarballs, made));
}

// TypeScript and Node's types for the consumer checks live one folder up, outside the measured install.
const tools = join(work, 'tools');
mkdirSync(tools);
writeFileSync(join(tools, 'package.json'), JSON.stringify({ name: 'kd-check-tools', private: true }));
const toolsInstall = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'typescript@5.9.3', '@types/node@20'], tools);
if (!toolsInstall.ok) throw new Error(`installing typescript: ${toolsInstall.output}`);
const tsc = join(tools, 'node_modules', 'typescript', 'bin', 'tsc');

const rows: Row[] = [];
for (const name of wanted) {
  const manifest = byName.get(name);
  if (!manifest) throw new Error(`${name} is not a published package of this repository`);
  const folder = join(tools, name.replace('/', '__'));
  mkdirSync(folder);
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  const row: Row = { name, installOk: false, bytes: 0, packages: 0, notes: [] };
  rows.push(row);
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...closure(name, byName).map((dependency) => tarballOf.get(dependency)!)], folder, {
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
  row.installOk = install.ok;
  if (!install.ok) {
    row.notes.push(`npm install failed: ${install.output.trim().split('\n').slice(-3).join(' / ')}`);
    continue;
  }
  row.bytes = folderBytes(join(folder, 'node_modules'));
  row.packages = countPackages(join(folder, 'node_modules'));
  if (manifest.bin && !manifest.exports) {
    const help = run('node', [join(folder, 'node_modules', ...name.split('/'), ...String(Object.values(manifest.bin as Record<string, string>)[0]).split('/')), '--help'], folder);
    row.notes.push(help.ok ? 'CLI: --help runs' : `CLI --help failed: ${help.output.trim().split('\n')[0]}`);
    continue;
  }

  // Import time: a fresh process per sample, the median of five.
  const samples: number[] = [];
  for (let sample = 0; sample < 5; sample++) {
    const timed = run('node', ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(name)}); console.log(performance.now() - t);`], folder);
    if (!timed.ok) {
      row.notes.push(`import failed: ${timed.output.trim().split('\n').slice(0, 2).join(' / ')}`);
      break;
    }
    samples.push(Number(timed.output.trim().split('\n').pop()));
  }
  if (samples.length === 5) row.importMs = median(samples);
  const required = run('node', ['-e', `const m = require(${JSON.stringify(name)}); if (Object.keys(m).length === 0) process.exit(3);`], folder);
  row.requireOk = required.ok;
  if (!required.ok) row.notes.push(`require failed: ${required.output.trim().split('\n').slice(0, 2).join(' / ')}`);

  // Strict TypeScript on a consumer of each condition; the declarations of every dependency are checked (no skipLibCheck).
  writeFileSync(join(folder, 'consumer.mts'), `import * as library from ${JSON.stringify(name)};\nconst names: string[] = Object.keys(library);\nconsole.log(names.length);\n`);
  writeFileSync(join(folder, 'consumer.cts'), `import library = require(${JSON.stringify(name)});\nconst names: string[] = Object.keys(library);\nconsole.log(names.length);\n`);
  for (const [file, key] of [['consumer.mts', 'tscImport'], ['consumer.cts', 'tscRequire']] as const) {
    const config = { compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: [file] };
    writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify(config));
    const checked = run('node', [tsc, '-p', 'tsconfig.json'], folder);
    row[key] = checked.ok;
    if (!checked.ok) {
      const errors = checked.output.split('\n').filter((line) => line.includes('error TS'));
      row.notes.push(`tsc (${file}): ${errors.length} errors, first: ${errors[0]?.trim() ?? checked.output.trim().split('\n')[0]}`);
    }
  }
  if (name === '@kd/trainer') {
    const checked = checkTrainerInstall(folder, root, manifest.devDependencies?.['@tensorflow/tfjs-core'] ?? 'latest', run);
    row.notes.push(...checked.notes);
    if (!checked.ok) process.exitCode = 1;
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const mark = (value: boolean | undefined) => (value === undefined ? '–' : value ? 'yes' : 'no');
const lines = [
  '| package | installs alone | node_modules (MB) | packages installed | import (ms, median of 5) | require() | strict tsc (import / require) | notes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (row) =>
      `| ${row.name} | ${mark(row.installOk)} | ${row.installOk ? mb(row.bytes) : '–'} | ${row.installOk ? row.packages : '–'} | ${row.importMs === undefined ? '–' : row.importMs.toFixed(0)} | ${mark(row.requireOk)} | ${mark(row.tscImport)} / ${mark(row.tscRequire)} | ${row.notes.join('; ').replaceAll('|', '\\|')} |`,
  ),
];
const table = lines.join('\n');
console.log(table);

if (values.write) {
  writeSection('Packages installed alone', `Each published package packed with \`pnpm pack\` and installed alone with npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()} into an empty folder outside the repository (its @kd dependencies as packed tarballs, \`ONNXRUNTIME_NODE_INSTALL=skip\`), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Import time is a fresh \`node\` process's \`await import()\` of the package, median of five, on a shared, loaded 2-core machine (compare rows of one run, not runs). Strict tsc: \`strict\`, \`module: nodenext\`, no \`skipLibCheck\`, on a consumer file per condition. Reproduce: \`npx -y pnpm@10.34.9 build && npx tsx tools/package-check.ts --write\`.\n\n${table}`);
  console.log(`wrote ${join(root, 'docs', 'BENCHMARKS.md')}`);
}
if (!values.keep) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
