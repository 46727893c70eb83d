import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exportCommand } from './commands/export.js';
import { trainCommand } from './commands/train.js';

const shared = new URL('../../../../shared/', import.meta.url);
const corpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const tokenizer = fileURLToPath(new URL('fixtures/teacher-llama-13m/tokenizer.json', shared));
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function run(command: ReturnType<typeof trainCommand>, args: string[]): Promise<void> {
  command.exitOverride();
  command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  await command.parseAsync(args, { from: 'user' });
}

describe('kd train / kd export', () => {
  it('help shows an example', () => {
    expect(trainCommand().helpInformation()).toContain('--objective <objective>');
    let text = '';
    const command = trainCommand();
    command.configureOutput({ writeOut: (chunk) => (text += chunk) });
    command.outputHelp();
    expect(text).toMatch(/Example:\n\s+kd train /);
    text = '';
    const exporting = exportCommand();
    exporting.configureOutput({ writeOut: (chunk) => (text += chunk) });
    exporting.outputHelp();
    expect(text).toMatch(/Example:\n\s+kd export /);
  });

  it('trains a tiny student from flags and a config file, then exports it', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'kd-cli-train-'));
    folders.push(folder);
    const out = join(folder, 'run');
    const configFile = join(folder, 'train.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(configFile, JSON.stringify({ model: { hiddenSize: 32, layers: 1, heads: 2, intermediateSize: 64 }, sequenceLength: 16, batchSize: 2, warmupSteps: 1 }));
    const logs: string[] = [];
    const original = console.log;
    console.log = (line: string) => logs.push(line);
    try {
      await run(trainCommand(), ['--config', configFile, '--corpus', corpus, '--limit', '10', '--tokenizer', tokenizer, '--out', out, '--steps', '2', '--backend', 'wasm', '--json']);
    } finally {
      console.log = original;
    }
    expect(logs).toHaveLength(1);
    const summary = JSON.parse(logs[0]!);
    expect(summary).toMatchObject({ step: 2, stopped: false, backend: 'wasm' });
    const state = JSON.parse(await readFile(join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.config).toMatchObject({ hiddenSize: 32, layers: 1, heads: 2, intermediateSize: 64, vocabSize: 32000 });

    const exported = join(folder, 'exported');
    await run(exportCommand(), ['--checkpoint', out, '--out', exported]);
    expect((await stat(join(exported, 'onnx', 'model.onnx'))).size).toBeGreaterThan(32000 * 32 * 4);
    expect(JSON.parse(await readFile(join(exported, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', hidden_size: 32 });
  });

  it('refuses bad flags with a code', async () => {
    await expect(run(trainCommand(), ['--corpus', corpus, '--tokenizer', tokenizer, '--out', '/tmp/never', '--steps', '0'])).rejects.toThrow(/--steps/);
    await expect(run(trainCommand(), ['--tokenizer', tokenizer, '--out', '/tmp/never'])).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(run(exportCommand(), ['--checkpoint', '/nonexistent/run', '--out', '/tmp/never-export'])).rejects.toMatchObject({ code: 'E_CHECKPOINT' });
    await expect(run(trainCommand(), ['--objective', 'kd', '--labels', '/tmp/labels', '--student-tokenizer', tokenizer, '--out', '/tmp/never', '--steps', '1'])).rejects.toThrow(/--teacher-tokenizer/);
    await expect(run(trainCommand(), ['--objective', 'kd', '--teacher-tokenizer', tokenizer, '--student-tokenizer', tokenizer, '--out', '/tmp/never', '--steps', '1'])).rejects.toThrow(/--labels: --objective kd needs --labels \(offline\) or --teacher \(online\)/);
    await expect(run(trainCommand(), ['--objective', 'kd', '--labels', '/nonexistent/labels', '--teacher-tokenizer', tokenizer, '--student-tokenizer', tokenizer, '--out', '/tmp/never-kd', '--alpha', '2'])).rejects.toThrow(/--alpha/);
  });
});
