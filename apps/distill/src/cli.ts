// Entry point of the `kd` binary: run the program, and on failure print one line with the
// cause (the stack only with --verbose) and exit non-zero. With --json the failure is one JSON
// object on stdout instead (unless the command printed its own), so that stdout always holds
// exactly one JSON document.
import { CommanderError } from 'commander';
import { describeError, errorCode } from './errors.js';
import { createProgram } from './program.js';

const args = process.argv.slice(2);
// `kd help label` reads as `kd label --help`.
if (args[0] === 'help' && args[1]) args.splice(0, 2, args[1], '--help');
const json = args.includes('--json');
// A command that already printed its JSON document (kd inspect --verify --json on a damaged
// dataset) reports the failure on stderr, so that stdout still holds exactly one document.
let printed = false;
const write = process.stdout.write.bind(process.stdout) as (...chunk: unknown[]) => boolean;
process.stdout.write = ((...chunk: unknown[]) => {
  printed = true;
  return write(...chunk);
}) as typeof process.stdout.write;

try {
  await createProgram().parseAsync(args, { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) {
    process.exitCode = error.exitCode;
  } else {
    const code = errorCode(error);
    const message = describeError(error);
    if (json && !printed) process.stdout.write(`${JSON.stringify({ error: { code, message: message.slice(code.length + 2) } })}\n`);
    else process.stderr.write(`kd: ${message}\n`);
    if (args.includes('--verbose') && error instanceof Error && !(error instanceof CommanderError)) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
