// The one error class of the server. Every failure a client sees is a ServerError: a stable
// code, the HTTP status it maps to and the OpenAI error type, with a message that names the
// field or limit at fault and never a path on disk or a stack.

export type ServerErrorCode =
  | 'E_BAD_JSON'
  | 'E_BAD_UTF8'
  | 'E_BODY_TOO_LARGE'
  | 'E_BODY_TIMEOUT'
  | 'E_JSON_TOO_DEEP'
  | 'E_VALIDATION'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_UNAUTHORIZED'
  | 'E_NOT_FOUND'
  | 'E_BAD_HOST'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_MODEL_NOT_FOUND'
  | 'E_PROMPT_TOO_LONG'
  | 'E_QUEUE_FULL'
  | 'E_TIMEOUT'
  | 'E_SHUTTING_DOWN'
  | 'E_CANCELLED'
  | 'E_MODEL_LOAD'
  | 'E_INVALID_INPUT'
  | 'E_INTERNAL'
  | 'E_OPTIONS';

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'server_error';

const statusOf: Record<ServerErrorCode, number> = {
  E_BAD_JSON: 400,
  E_BAD_UTF8: 400,
  E_BODY_TOO_LARGE: 413,
  E_BODY_TIMEOUT: 408,
  E_JSON_TOO_DEEP: 400,
  E_VALIDATION: 400,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_UNAUTHORIZED: 401,
  E_NOT_FOUND: 404,
  E_BAD_HOST: 421,
  E_METHOD_NOT_ALLOWED: 405,
  E_MODEL_NOT_FOUND: 404,
  E_PROMPT_TOO_LONG: 400,
  E_QUEUE_FULL: 429,
  E_TIMEOUT: 504,
  E_SHUTTING_DOWN: 503,
  // nginx's "client closed request": only ever logged, the client is gone.
  E_CANCELLED: 499,
  E_MODEL_LOAD: 500,
  E_INVALID_INPUT: 400,
  E_INTERNAL: 500,
  E_OPTIONS: 500,
};

function typeOf(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 408 || status === 504) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly status: number;
  readonly type: OpenAIErrorType;
  /** Extra response headers (Retry-After on 429, Allow on 405, WWW-Authenticate on 401). */
  readonly headers: Record<string, string>;
  constructor(code: ServerErrorCode, message: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ServerError';
    this.code = code;
    this.status = statusOf[code];
    this.type = typeOf(this.status);
    this.headers = options.headers ?? {};
  }

  /** The OpenAI error body: `{"error": {"code", "message", "type"}}`. */
  toBody(): { error: { code: string; message: string; type: OpenAIErrorType } } {
    return { error: { code: this.code, message: this.message, type: this.type } };
  }
}

/**
 * What a client may see of any thrown value: a ServerError as it is, an error of the model
 * library with a code as a 400 (bad input the model refused) and anything else as an opaque 500,
 * so a stack or a path never leaves the process.
 */
export function toServerError(error: unknown): ServerError {
  if (error instanceof ServerError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^E_[A-Z_]+$/.test(code) && isInputCode(code)) {
    return new ServerError('E_INVALID_INPUT', `${code}: ${scrubPaths(error.message)}`, { cause: error });
  }
  return new ServerError('E_INTERNAL', 'the server failed to answer this request; see its log', { cause: error });
}

// Codes of @kd/infer that describe the request (a prompt or labels it refuses) rather than
// the server's own state.
function isInputCode(code: string): boolean {
  return /PROMPT|LABEL|INPUT|OPTION|CONTEXT|EMPTY|TOO_LONG|STOP/.test(code);
}

/** Replaces anything that looks like an absolute path with `<path>`. */
export function scrubPaths(message: string): string {
  return message.replace(/(?:[A-Za-z]:)?(?:[\\/][^\s'"`:,;()]+){2,}/g, '<path>');
}
