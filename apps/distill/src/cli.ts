// Entry point of the `kd` binary: run the program, and on failure print one line with the
// cause (the stack only with --verbose) and exit non-zero.
import { describeError } from './errors.js';
import { createProgram } from './program.js';

const program = createProgram();
program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander already printed help, a version, or a usage error.
    process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
  } else {
    process.stderr.write(`kd: ${describeError(error)}\n`);
    if (process.argv.includes('--verbose') && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
