// `kd merge ROOT`: the shard folders a sharded `kd label --shard I/N --out ROOT` wrote become one
// dataset at ROOT (through @kd/pipeline's mergeShards); training, `kd inspect` and `kd align`
// then read ROOT as one dataset.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { mergeShards, type MergeSummary } from '@kd/pipeline';
import { defineCommand } from '../define-command.js';

const mergeSchema = z
  .object({
    json: z.boolean().optional().describe('print the summary as one JSON object on stdout (and nothing else there)'),
  })
  .strict();

function summaryLine(summary: MergeSummary): string {
  return (
    `merged ${summary.shards} shards → ${summary.root}: ${summary.documents} documents, ${summary.tokens} tokens, ` +
    `${summary.parts} parts, ${summary.bytesPerToken.toFixed(2)} bytes/token, mean kept ${summary.meanKept.toFixed(2)}`
  );
}

export async function runMerge(root: string, own: { json?: boolean }, log: (line: string) => void = console.log): Promise<MergeSummary> {
  const summary = await mergeShards(resolve(root));
  log(own.json ? JSON.stringify(summary) : summaryLine(summary));
  return summary;
}

export function mergeCommand(): Command {
  return defineCommand({
    name: 'merge',
    description: 'Verify the shards of a sharded kd label run and merge them into one dataset',
    argument: { name: 'root', description: 'the --out folder of the kd label --shard runs' },
    own: mergeSchema,
    examples: [
      'for i in 0 1 2 3; do kd label --corpus examples/corpus/dev.jsonl --shard $i/4 --out out/dev-sharded & done; wait',
      'kd merge out/dev-sharded',
      'kd inspect out/dev-sharded --verify',
    ],
    run: async (_library, own, root) => {
      await runMerge(root!, own);
    },
  });
}
