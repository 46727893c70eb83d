import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { labelOptionsSchema } from '@kd/pipeline';
import { trainOptionsSchema } from '@kd/trainer';
import { inspectCommand } from './commands/inspect.js';
import { labelCommand } from './commands/label.js';
import { trainCommand } from './commands/train.js';
import { defineCommand } from './define-command.js';
import { flagsOf } from './schema-flags.js';

const shared = new URL('../../../../shared/', import.meta.url);
const corpus = fileURLToPath(new URL('corpus/dev.jsonl', shared));
const tokenizer = fileURLToPath(new URL('fixtures/teacher-llama-13m/tokenizer.json', shared));

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kd-cli-flags-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text.replace(/\s+/g, ' ');
}

async function failure(command: Command, args: string[]): Promise<{ code: string; message: string }> {
  command.exitOverride();
  command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  return command.parseAsync(args, { from: 'user' }).then(
    () => {
      throw new Error(`kd ${command.name()} ${args.join(' ')} succeeded`);
    },
    (error: { code: string; message: string }) => error,
  );
}

async function configFile(name: string, content: unknown): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, JSON.stringify(content));
  return path;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

describe('flags derived from a schema', () => {
  it('flattens nested objects, prefixes clashing names and lists union variants', () => {
    const schema = z
      .object({
        out: z.string().describe('where'),
        model: z.object({ hiddenSize: z.number().default(8), out: z.string().optional() }).prefault({}),
        compression: z
          .discriminatedUnion('mode', [
            z.object({ mode: z.literal('fixed'), k: z.number().default(4) }).strict(),
            z.object({ mode: z.literal('adaptive'), p: z.number().default(0.5), k: z.number().optional() }).strict(),
          ])
          .default({ mode: 'adaptive', p: 0.5 }),
        tasks: z.array(z.enum(['a', 'b'])).optional(),
      })
      .strict();
    const { flags, unionDefaults } = flagsOf(schema);
    const byPath = new Map(flags.map((spec) => [spec.path.join('.'), spec]));
    expect(byPath.get('out')).toMatchObject({ flag: 'out', required: true, description: 'where' });
    expect(byPath.get('model.out')?.flag).toBe('model-out');
    expect(byPath.get('model.hiddenSize')).toMatchObject({ flag: 'hidden-size', kind: 'number', defaultValue: 8, required: false });
    expect(byPath.get('compression.mode')).toMatchObject({ flag: 'mode', choices: ['fixed', 'adaptive'], defaultValue: 'adaptive' });
    expect(byPath.get('compression.k')?.variants?.values).toEqual(['fixed', 'adaptive']);
    expect(byPath.get('compression.p')?.variants?.values).toEqual(['adaptive']);
    expect(byPath.get('tasks')).toMatchObject({ kind: 'array', choices: ['a', 'b'] });
    expect(unionDefaults).toEqual([{ path: ['compression'], discriminator: 'mode', value: 'adaptive' }]);
  });

  it("every train option appears in kd train --help as its kebab-case flag, with the library's default", () => {
    const help = helpOf(trainCommand());
    const model = trainOptionsSchema.shape.model.unwrap();
    for (const name of [...Object.keys(trainOptionsSchema.shape).filter((key) => key !== 'model'), ...Object.keys(model.shape)]) {
      expect(help).toContain(`--${kebab(name)}`);
    }
    const warmup = trainOptionsSchema.shape.warmupSteps.parse(undefined);
    expect(help).toMatch(new RegExp(`--warmup-steps <n> linear warmup steps \\(default: ${warmup}\\)`));
    expect(help).toMatch(/--hidden-size <n> model width \(default: 256\)/);
    expect(help).toMatch(/--steps <n> optimizer steps in total \(required\)/);
    expect(help).toMatch(/--backend <backend> .*\(choices: auto, wasm; default: auto\)/);
  });

  it('every label option appears in kd label --help, compression modes included', () => {
    const help = helpOf(labelCommand());
    for (const name of Object.keys(labelOptionsSchema.shape).filter((key) => key !== 'compression')) expect(help).toContain(`--${kebab(name)}`);
    expect(help).toMatch(/--mode <mode> .*\(choices: fixed, adaptive, sampled, hybrid; default: adaptive\)/);
    expect(help).toMatch(/--k-max <n> .*\(mode adaptive, hybrid; default: 64\)/);
    expect(help).toMatch(/--corpus <path> .*\(required\)/);
  });

  it('inspect takes --config like every command', () => {
    expect(helpOf(inspectCommand())).toContain('--config <path>');
  });
});

describe('one validation for flags and config files', () => {
  it('a bad value reads the same from a flag and from the config file, naming the flag or the key and the value', async () => {
    const fromFlag = await failure(labelCommand(), ['--corpus', corpus, '--out', join(folder, 'a'), '--k-max', '0']);
    const config = await configFile('kmax.json', { compression: { kMax: 0 } });
    const fromConfig = await failure(labelCommand(), ['--config', config, '--corpus', corpus, '--out', join(folder, 'a')]);
    expect(fromFlag.code).toBe('E_USAGE');
    expect(fromConfig.code).toBe('E_USAGE');
    expect(fromFlag.message).toMatch(/^--k-max: /);
    expect(fromConfig.message).toMatch(new RegExp(`^config file ${config}: "compression.kMax": `));
    expect(fromFlag.message.replace(/^--k-max: /, '')).toBe(fromConfig.message.replace(/^.*"compression.kMax": /, ''));
    expect(fromFlag.message).toContain('(got 0)');
  });

  it('refuses true where a number belongs instead of reading it as 1', async () => {
    const config = await configFile('k-true.json', { compression: { mode: 'fixed', k: true } });
    const error = await failure(labelCommand(), ['--config', config, '--corpus', corpus, '--out', join(folder, 'b')]);
    expect(error).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('"compression.k"') });
    expect(error.message).toContain('(got true)');
  });

  it('refuses unknown config keys, naming them', async () => {
    const config = await configFile('old-names.json', { hidden: 128, warmup: 30 });
    const error = await failure(trainCommand(), ['--config', config, '--corpus', corpus, '--tokenizer', tokenizer, '--out', join(folder, 'c'), '--steps', '1']);
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toContain('unknown keys "hidden", "warmup"');
    const nested = await configFile('nested.json', { model: { hidden: 128 } });
    expect((await failure(trainCommand(), ['--config', nested, '--corpus', corpus, '--tokenizer', tokenizer, '--out', join(folder, 'c'), '--steps', '1'])).message).toContain(
      '"model.hidden"',
    );
    const inspect = await configFile('inspect.json', { verbosity: 2 });
    expect((await failure(inspectCommand(), [folder, '--config', inspect])).message).toContain('"verbosity"');
  });

  it('a flag of another compression mode is refused by name', async () => {
    const error = await failure(labelCommand(), ['--corpus', corpus, '--out', join(folder, 'd'), '--mode', 'fixed', '--p', '0.5']);
    expect(error).toMatchObject({ code: 'E_USAGE', message: '--p does not apply with --mode fixed' });
  });

  it('prints library errors with the flags of the options they name', async () => {
    const error = await failure(trainCommand(), [
      '--corpus', corpus, '--tokenizer', tokenizer, '--out', join(folder, 'e'), '--steps', '1', '--backend', 'wasm',
      '--sequence-length', '32', '--max-positions', '16', '--hidden-size', '32', '--heads', '2', '--layers', '1',
    ]);
    expect(error.code).toBe('E_OPTIONS');
    expect(error.message).toContain('--max-positions is 16 but --sequence-length is 32');
    expect(error.message).not.toContain('`');
  });

  it('a command without a library schema still validates its own options', async () => {
    const command = defineCommand({
      name: 'probe',
      description: 'probe',
      examples: ['kd probe'],
      own: z.object({ count: z.number().int().min(1).default(3).describe('how many') }).strict(),
      run: async () => {},
    });
    expect((await failure(command, ['--count', 'abc'])).message).toBe('--count: Invalid input: expected number, received string (got "abc")');
  });
});
