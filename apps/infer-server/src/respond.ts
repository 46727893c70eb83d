// Writing responses: JSON with the headers every answer carries, errors in the OpenAI shape,
// and server-sent events that stop quietly when the client has gone.
import type { ServerResponse } from 'node:http';
import type { ServerError } from './errors.js';

export const baseHeaders: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

export function sendText(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

export function sendError(response: ServerResponse, error: ServerError, closeConnection = false): void {
  const headers: Record<string, string> = { ...error.headers };
  if (closeConnection) headers.Connection = 'close';
  sendJson(response, error.status, error.toBody(), headers);
}

/** A server-sent event stream on `response`. */
export class EventStream {
  constructor(private readonly response: ServerResponse) {}

  open(): void {
    if (this.response.headersSent) return;
    this.response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.response.flushHeaders();
  }

  get opened(): boolean {
    return this.response.headersSent;
  }

  send(data: unknown): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    this.response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    this.send('[DONE]');
    this.response.end();
  }
}
