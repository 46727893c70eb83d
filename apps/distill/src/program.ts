// The `kd` program: one subcommand per step of the pipeline.
import { Command } from 'commander';
import { alignCommand } from './commands/align.js';
import { inspectCommand } from './commands/inspect.js';
import { exportCommand } from './commands/export.js';
import { labelCommand } from './commands/label.js';
import { trainCommand } from './commands/train.js';

export function createProgram(): Command {
  const program = new Command('kd')
    .description('Knowledge distillation with compressed teacher distributions')
    .version('0.1.0')
    .option('--verbose', 'print the stack trace of an error')
    .showHelpAfterError('(add --help for usage)');
  program.addCommand(labelCommand());
  program.addCommand(inspectCommand());
  program.addCommand(alignCommand());
  program.addCommand(trainCommand());
  program.addCommand(exportCommand());
  for (const command of program.commands) command.exitOverride();
  return program;
}
