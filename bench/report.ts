// Benchmark results are kept per section in docs/bench-results.json, so one section can be
// re-run alone; docs/BENCHMARKS.md gets the sections a run measured, each in place of its old
// text, and keeps every other section as it is (including those other scripts write).
import { cpus } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SectionResult {
  title: string;
  command: string;
  date: string;
  machine: string;
  /** Markdown body: tables and the sentences that read them. */
  markdown: string;
  data: unknown;
}

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const sharedDir = fileURLToPath(new URL('../../shared/', import.meta.url));
const resultsPath = `${repoRoot}docs/bench-results.json`;
const reportPath = `${repoRoot}docs/BENCHMARKS.md`;

export function machine(): string {
  const list = cpus();
  return `${list.length} × ${list[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function loadResults(): Record<string, SectionResult> {
  return existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
}

/** A path of this machine as the repository names it: relative to the root, or under ../shared. */
function portablePath(_key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.startsWith(sharedDir)) return `../shared/${value.slice(sharedDir.length)}`;
  if (value.startsWith(repoRoot)) return value.slice(repoRoot.length);
  return value;
}

const preamble =
  '# Benchmarks\n\nEach section is written by the command it names: `pnpm bench` (`bench/run.ts`) for most, a script of `bench/` or `tools/` for the rest, each putting its own section in place and leaving the others as they are. Speeds are compared as ratios against a baseline measured in the same run. Sections of `pnpm bench` can be re-run alone: `pnpm bench --only NAME`.\n';

/**
 * Puts `## title` and `body` into docs/BENCHMARKS.md: in place of the section of that title
 * (up to the next `## ` heading), or after the last one; every other section stays as it is.
 */
export function writeSection(title: string, body: string): void {
  const text = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : '';
  const first = text.indexOf('\n## ');
  const sections = first < 0 ? [] : text.slice(first + 1).split(/\n(?=## )/);
  const section = `## ${title}\n\n${body.trim()}\n`;
  const at = sections.findIndex((existing) => existing.slice(3, existing.indexOf('\n')) === title);
  if (at < 0) sections.push(section);
  else sections[at] = section;
  writeFileSync(reportPath, `${preamble}\n${sections.map((existing) => `${existing.trimEnd()}\n`).join('\n')}`);
}

/** Keeps `results` in bench-results.json and writes the sections named in `measured` into docs/BENCHMARKS.md (the others stay as they are there). */
export function saveResults(results: Record<string, SectionResult>, measured: string[]): void {
  writeFileSync(resultsPath, `${JSON.stringify(results, portablePath, 2)}\n`);
  for (const name of measured.filter((key) => results[key])) {
    const section = results[name]!;
    writeSection(section.title, `Measured ${section.date} on ${section.machine} with \`${section.command}\`.\n\n${section.markdown}`);
  }
}
