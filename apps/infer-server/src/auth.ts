// Bearer-token check. Both sides are hashed to 32 bytes first so timingSafeEqual compares equal
// lengths and the time taken says nothing about the token, not even its length.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ServerError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerCheck(apiKey: string | undefined): (request: IncomingMessage) => void {
  if (apiKey === undefined) return () => {};
  const expected = digest(apiKey);
  return (request) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(.+)$/i.exec(header.trim()) : null;
    const given = digest(match ? match[1] : '');
    // Always compare, even when the header is missing, so that case takes the same path.
    if (!timingSafeEqual(expected, given) || !match) {
      throw new ServerError('E_UNAUTHORIZED', 'a valid API key is required: send "Authorization: Bearer <key>"', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
  };
}
