// `kd --help` start-up time: runs a built `kd` binary (apps/distill/dist/cli.js, or the paths
// given) 10 times each, alternating, and prints the median wall time and peak RSS per binary.
//   pnpm build --filter=@kd/distill... && npx tsx bench/cli-startup.ts [cli.js …] [-- args]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const separator = process.argv.indexOf('--');
const given = process.argv.slice(2, separator >= 0 ? separator : undefined);
const args = separator >= 0 ? process.argv.slice(separator + 1) : ['--help'];
const binaries = given.length > 0 ? given : [fileURLToPath(new URL('../apps/distill/dist/cli.js', import.meta.url))];
const runs = 10;

const times = new Map<string, number[]>(binaries.map((binary) => [binary, []]));
const memory = new Map<string, number[]>(binaries.map((binary) => [binary, []]));
for (let run = 0; run < runs; run++) {
  for (const binary of binaries) {
    const started = performance.now();
    // /usr/bin/time is not everywhere; the child reports its own peak RSS on exit instead.
    const result = spawnSync(process.execPath, ['--import', 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nrss "+process.resourceUsage().maxRSS+"\\n"))', binary, ...args], { encoding: 'utf8' });
    times.get(binary)!.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
    const rss = /rss (\d+)/.exec(result.stderr);
    if (rss) memory.get(binary)!.push(Number(rss[1]) / 1024);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const binary of binaries) {
  console.log(`${binary} ${args.join(' ')}: median ${(median(times.get(binary)!) / 1000).toFixed(3)} s over ${runs} runs, peak RSS ${median(memory.get(binary)!).toFixed(0)} MB`);
}
