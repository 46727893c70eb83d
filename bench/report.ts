// Benchmark results are kept per section in docs/bench-results.json, so one section can be
// re-run alone; docs/BENCHMARKS.md is regenerated from all of them every time.
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

export function saveResults(results: Record<string, SectionResult>, order: string[]): void {
  writeFileSync(resultsPath, `${JSON.stringify(results, portablePath, 2)}\n`);
  const sections = order.filter((name) => results[name]).map((name) => {
    const section = results[name]!;
    return `## ${section.title}\n\nMeasured ${section.date} on ${section.machine} with \`${section.command}\`.\n\n${section.markdown}\n`;
  });
  writeFileSync(
    reportPath,
    `# Benchmarks\n\nEvery figure here is written by \`pnpm bench\` (\`bench/run.ts\`); speeds are compared as ratios against a baseline measured in the same run. Sections can be re-run alone: \`pnpm bench --only NAME\`.\n\n${sections.join('\n')}`,
  );
}
