// The CLI's own error: bad flags or config, missing inputs. Library errors (TeacherError,
// CodecError, …) pass through with their own codes; commander's parse errors become E_USAGE.
import { CommanderError } from 'commander';

export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

/** The error's code: its own `E_…` code, E_USAGE for a command-line parse error, else E_INTERNAL. */
export function errorCode(error: unknown): string {
  if (error instanceof CommanderError) return 'E_USAGE';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('E_') ? code : 'E_INTERNAL';
}

/** One line for the user: `CODE: message`. */
export function describeError(error: unknown): string {
  if (error instanceof CommanderError) {
    // commander says "error: unknown option '--x'"; kd says what to do next.
    return `E_USAGE: ${error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}; see kd --help`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${errorCode(error)}: ${message}`;
}
