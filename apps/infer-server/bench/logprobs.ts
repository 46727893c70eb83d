// What logprobs cost a completion: POST /v1/completions on tiny-llama-with-past, greedy,
// without logprobs, with "logprobs": 0 (the chosen token's) and with "logprobs": 5 (five
// alternatives a step), alternated request by request in one process against one server.
// Run with `pnpm --filter @kd/infer-server exec tsx bench/logprobs.ts`.
import { startServer } from '../src/server.js';
import { modelsFolder } from '../src/test-server.js';

const prompts = ['We the people', 'Once upon a time there was a', 'The weather today is', 'In the beginning'];
const variants = [
  ['none', undefined],
  ['logprobs 0', 0],
  ['logprobs 5', 5],
] as const;
const rounds = Number(process.env.ROUNDS ?? 6);
const maxTokens = 48;

const folder = await modelsFolder();
const server = await startServer({ modelsDir: folder.dir, port: 0, maxBatch: 1 });
try {
  const ask = async (prompt: string, logprobs: number | undefined) => {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt, max_tokens: maxTokens, temperature: 0, ...(logprobs === undefined ? {} : { logprobs }) }),
    });
    const body = (await response.json()) as { usage: { completion_tokens: number } };
    return body.usage.completion_tokens;
  };
  await ask('warm up', 5);
  const totals = new Map<string, { seconds: number; tokens: number }>(variants.map(([label]) => [label, { seconds: 0, tokens: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const prompt of prompts) {
      for (const [label, logprobs] of variants) {
        const started = performance.now();
        const tokens = await ask(prompt, logprobs);
        const total = totals.get(label)!;
        total.seconds += (performance.now() - started) / 1000;
        total.tokens += tokens;
      }
    }
  }
  const rate = (label: string) => totals.get(label)!.tokens / totals.get(label)!.seconds;
  for (const [label] of variants) {
    process.stdout.write(`${label}: ${totals.get(label)!.tokens} tokens, ${rate(label).toFixed(1)} tokens/s, ${(rate(label) / rate('none')).toFixed(3)}× of none\n`);
  }
} finally {
  await server.close();
  await folder.remove();
}
