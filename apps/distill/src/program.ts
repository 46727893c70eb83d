// The `kd` program: one subcommand per step of the pipeline. Only names and summaries live
// here; a subcommand's module (and the libraries behind it) is imported when it runs, so
// `kd --help` loads nothing but commander.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

export interface SubcommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const subcommands: SubcommandEntry[] = [
  { name: 'label', summary: 'Run an ONNX teacher over a corpus and store its compressed distributions as Parquet', load: async () => (await import('./commands/label.js')).labelCommand() },
  { name: 'merge', summary: 'Verify the shards of a sharded kd label run and merge them into one dataset', load: async () => (await import('./commands/merge.js')).mergeCommand() },
  { name: 'inspect', summary: 'Show what a labelled dataset holds; --verify checks every part', load: async () => (await import('./commands/inspect.js')).inspectCommand() },
  { name: 'align', summary: "Map the teacher's tokens onto the student's vocabulary and report the coverage", load: async () => (await import('./commands/align.js')).alignCommand() },
  { name: 'train', summary: 'Train a Llama-style student on a corpus and write checkpoints (resumable)', load: async () => (await import('./commands/train.js')).trainCommand() },
  { name: 'run', summary: 'Label → align → train → export → eval → report in one command (resumable)', load: async () => (await import('./commands/run.js')).runCommand() },
  { name: 'eval', summary: 'Measure a student on held-out text: perplexity, bits per byte, KL to a teacher, spam/ham accuracy, chrF', load: async () => (await import('./commands/eval.js')).evalCommand() },
  { name: 'export', summary: 'Export a trained student as ONNX + safetensors in the Hugging Face layout', load: async () => (await import('./commands/export.js')).exportCommand() },
  { name: 'serve', summary: 'Serve model folders over HTTP (kd tasks, OpenAI-compatible completions and chat, a playground)', load: async () => (await import('./commands/serve.js')).serveCommand() },
];

/** The version of this package, from its package.json (one folder above src/ and dist/). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Quiet commander output: errors are printed by the caller in kd's own form. */
function quiet(command: Command): Command {
  return command.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
}

export function createProgram(): Command {
  const program = quiet(
    new Command('kd')
      .description('Knowledge distillation with compressed teacher distributions')
      .version(packageVersion())
      .option('--verbose', 'print the stack trace of an error')
      .helpCommand(false)
      .addHelpText('after', '\nRun kd <command> --help for the options of a command.'),
  );
  for (const entry of subcommands) {
    program
      .command(entry.name)
      .summary(entry.summary)
      .description(entry.summary)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments(true)
      .argument('[arguments...]')
      .action(async (_arguments: string[], _options: unknown, stub: Command) => {
        const command = quiet(await entry.load());
        command.name(entry.name);
        command.parent = program;
        await command.parseAsync(stub.args, { from: 'user' });
      });
  }
  return program;
}
