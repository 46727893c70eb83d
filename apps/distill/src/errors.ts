// The CLI's own error: bad flags or config, missing inputs. Library errors (TeacherError,
// CodecError, …) pass through with their own codes.

export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

/** One line for the user: the code (when the error has one) and the message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('E_') ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
