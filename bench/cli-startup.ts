// CLI start-up: `kd --help` (and `kd label --help`) of the built binary, 10 runs each,
// alternated in one loop with node running an empty script (the floor no CLI can beat) and,
// when KD_BEFORE_CLI names another build's cli.js, with that build. Median wall time and peak
// RSS per binary. Needs `pnpm build --filter=@kd/distill...` first.
//   pnpm bench --only startup                     (or: KD_BEFORE_CLI=/old/apps/distill/dist/cli.js pnpm bench --only startup)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { machine, repoRoot, table, type SectionResult } from './report.js';

const runs = 10;
/** Makes the child report its own peak RSS on exit (no /usr/bin/time needed). */
const reportRss = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nrss "+process.resourceUsage().maxRSS+"\\n"))';

interface Subject {
  name: string;
  args: string[];
}

interface Measured {
  name: string;
  medianSeconds: number;
  peakRssMegabytes: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function measureStartup(subjects: Subject[]): Measured[] {
  const times = subjects.map(() => [] as number[]);
  const memory = subjects.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    subjects.forEach((subject, i) => {
      const started = performance.now();
      const result = spawnSync(process.execPath, ['--import', reportRss, ...subject.args], { encoding: 'utf8' });
      times[i]!.push((performance.now() - started) / 1000);
      if (result.status !== 0) throw new Error(`${subject.name} exited with ${result.status}: ${result.stderr}`);
      const rss = /rss (\d+)/.exec(result.stderr);
      if (rss) memory[i]!.push(Number(rss[1]) / 1024);
    });
  }
  return subjects.map((subject, i) => ({ name: subject.name, medianSeconds: median(times[i]!), peakRssMegabytes: median(memory[i]!) }));
}

export async function benchStartupSection(): Promise<Omit<SectionResult, 'command'>> {
  const cli = `${repoRoot}apps/distill/dist/cli.js`;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build --filter=@kd/distill... first`);
  const before = process.env.KD_BEFORE_CLI;
  const subjects: Subject[] = [
    { name: 'node, empty script', args: ['-e', ''] },
    ...(before ? [{ name: `kd --help, ${before.replace(/.*?([^/]+)\/apps\/distill\/dist\/cli\.js$/, '$1')} (before)`, args: [before, '--help'] }] : []),
    { name: 'kd --help', args: [cli, '--help'] },
    { name: 'kd label --help', args: [cli, 'label', '--help'] },
  ];
  const rows = measureStartup(subjects);
  const load = (await import('node:os')).loadavg()[0]!;
  const markdown = [
    `Median of ${runs} runs each, alternated in one loop; load average ${load.toFixed(1)} when measured (other work shared the machine, so compare rows, not absolute seconds). ` +
      '`kd --help` imports only commander; a subcommand module and the libraries behind it load when that subcommand runs (`kd label --help` builds its flags from `labelOptionsSchema`, which loads @kd/pipeline and the teacher).',
    '',
    table(
      ['what', 'median wall time', 'peak RSS'],
      rows.map((row) => [row.name, `${row.medianSeconds.toFixed(3)} s`, `${row.peakRssMegabytes.toFixed(0)} MB`]),
    ),
  ].join('\n');
  return { title: 'CLI start-up', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: rows };
}
