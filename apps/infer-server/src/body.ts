// Reading a request body: at most maxBytes, within a deadline, strict UTF-8, JSON no deeper
// than maxDepth. A hostile body (huge, slow, invalid bytes, a tower of brackets) is refused
// before any of it reaches a parser that could be made to work hard.
import type { IncomingMessage } from 'node:http';
import { ServerError } from './errors.js';

export interface BodyLimits {
  maxBytes: number;
  maxDepth: number;
  timeoutMs: number;
}

export async function readBody(request: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    request.resume();
    throw new ServerError('E_BODY_TOO_LARGE', `the body is ${declared} bytes; at most ${limits.maxBytes} are accepted`);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: ServerError | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
      if (error) {
        // Stop reading: whatever else arrives is discarded, and the response closes the socket.
        request.resume();
        reject(error);
      } else resolve(body!);
    };
    const timer = setTimeout(
      () => finish(new ServerError('E_BODY_TIMEOUT', `the body did not arrive within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) finish(new ServerError('E_BODY_TOO_LARGE', `the body exceeds ${limits.maxBytes} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, Buffer.concat(chunks, size));
    const onError = () => finish(new ServerError('E_BAD_JSON', 'the body could not be read'));
    const onAborted = () => finish(new ServerError('E_BAD_JSON', 'the client closed the connection before the body ended'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes strict UTF-8, checks the nesting depth, then parses. An empty body is `{}`. */
export function parseJsonBody(body: Buffer, maxDepth: number): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new ServerError('E_BAD_UTF8', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  const depth = jsonDepth(text);
  if (depth > maxDepth) throw new ServerError('E_JSON_TOO_DEEP', `the body nests ${depth} levels deep; at most ${maxDepth} are accepted`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ServerError('E_BAD_JSON', 'the body is not valid JSON');
  }
}

/** Deepest bracket nesting outside strings, in one pass without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
