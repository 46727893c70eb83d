// The HTTP server: routing, authentication, body limits, timeouts, CORS when asked, metrics
// per request and a graceful shutdown that lets in-flight requests finish within a deadline.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerCheck } from './auth.js';
import { parseJsonBody, readBody } from './body.js';
import type { Handler, RequestContext } from './context.js';
import { ServerError, toServerError } from './errors.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { serverOptionsSchema, type ServerOptions, type ServerOptionsInput } from './options.js';
import { playgroundHeaders, playgroundHtml } from './playground.js';
import { ModelRegistry } from './registry.js';
import { baseHeaders, sendError, sendJson, sendText } from './respond.js';
import { chatRoute, completionsRoute, modelsRoute } from './routes-openai.js';
import { classifyRoute, codeRoute, generateRoute, translateRoute } from './routes-tasks.js';
import { InferenceService } from './service.js';

export interface InferServer {
  /** http://host:port of the listening server. */
  readonly url: string;
  readonly options: ServerOptions;
  readonly metrics: Metrics;
  /** Stops accepting, lets in-flight requests finish (at most shutdownGraceMs), then frees the models. */
  close(): Promise<void>;
}

interface Route {
  method: 'GET' | 'POST';
  handler: Handler;
  /** Behind the API key when one is set. */
  protected: boolean;
  /** Reads a JSON body. */
  body: boolean;
}

export async function startServer(input: ServerOptionsInput, log: (line: string) => void = () => {}): Promise<InferServer> {
  const parsed = serverOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServerError('E_OPTIONS', `${issue?.path.join('.') || 'options'}: ${issue?.message}`);
  }
  const options = parsed.data;
  const metrics = new Metrics();
  const registry = new ModelRegistry(options.modelsDir, { threads: options.threads }, log);
  const service = new InferenceService(registry, metrics, options);
  const authorize = bearerCheck(options.apiKey);
  const openApi = JSON.stringify(openApiDocument());

  const staticRoute = (contentType: string, body: () => string, headers: Record<string, string> = {}): Handler => async (context) =>
    sendText(context.response, 200, contentType, body(), headers);
  const routes = new Map<string, Route>([
    ['/', { method: 'GET', protected: false, body: false, handler: staticRoute('text/html; charset=utf-8', () => playgroundHtml, playgroundHeaders) }],
    ['/healthz', { method: 'GET', protected: false, body: false, handler: async (context) => sendJson(context.response, closing ? 503 : 200, { status: closing ? 'shutting_down' : 'ok' }) }],
    ['/openapi.json', { method: 'GET', protected: false, body: false, handler: staticRoute('application/json; charset=utf-8', () => openApi) }],
    ['/metrics', { method: 'GET', protected: true, body: false, handler: staticRoute('text/plain; version=0.0.4; charset=utf-8', () => metrics.render()) }],
    ['/v1/models', { method: 'GET', protected: true, body: false, handler: modelsRoute }],
    ['/v1/generate', { method: 'POST', protected: true, body: true, handler: generateRoute }],
    ['/v1/code', { method: 'POST', protected: true, body: true, handler: codeRoute }],
    ['/v1/translate', { method: 'POST', protected: true, body: true, handler: translateRoute }],
    ['/v1/classify', { method: 'POST', protected: true, body: true, handler: classifyRoute }],
    ['/v1/completions', { method: 'POST', protected: true, body: true, handler: completionsRoute }],
    ['/v1/chat/completions', { method: 'POST', protected: true, body: true, handler: chatRoute }],
  ]);

  let closing = false;
  const inFlight = new Set<AbortController>();

  const corsHeaders = (request: IncomingMessage): Record<string, string> => {
    if (!options.corsOrigin) return {};
    const origin = request.headers.origin;
    if (options.corsOrigin !== '*' && origin !== options.corsOrigin) return {};
    return {
      'Access-Control-Allow-Origin': options.corsOrigin,
      'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    };
  };

  // Bound to loopback, the server answers only requests addressed to loopback: a web page whose
  // domain was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name as Host and is refused.
  const loopbackOnly = ['127.0.0.1', 'localhost', '::1'].includes(options.host);
  const loopbackHost = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$/i;

  async function handle(request: IncomingMessage, response: ServerResponse, routeName: (name: string) => void): Promise<void> {
    for (const [key, value] of Object.entries({ ...baseHeaders, ...corsHeaders(request) })) response.setHeader(key, value);
    if (loopbackOnly && !loopbackHost.test(request.headers.host ?? '')) {
      throw new ServerError('E_BAD_HOST', 'this server answers only requests addressed to 127.0.0.1 or localhost; start it with --host to serve other names');
    }
    const path = (request.url ?? '/').split('?', 1)[0];
    const route = routes.get(path);
    if (!route) throw new ServerError('E_NOT_FOUND', `no endpoint ${request.method} ${path.slice(0, 200)}; GET /openapi.json lists them`);
    routeName(path);
    if (request.method === 'OPTIONS' && options.corsOrigin) {
      response.writeHead(204).end();
      return;
    }
    if (request.method !== route.method && !(route.method === 'GET' && request.method === 'HEAD')) {
      throw new ServerError('E_METHOD_NOT_ALLOWED', `${path} takes ${route.method}, not ${request.method}`, { headers: { Allow: route.method } });
    }
    if (route.protected) authorize(request);
    if (closing && route.body) throw new ServerError('E_SHUTTING_DOWN', 'the server is shutting down; retry on another instance', { headers: { 'Retry-After': '1' } });
    let body: unknown;
    if (route.body) {
      const type = request.headers['content-type'];
      if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
        throw new ServerError('E_UNSUPPORTED_MEDIA_TYPE', `the body must be JSON: send "Content-Type: application/json", got ${JSON.stringify(type.slice(0, 100))}`);
      }
      body = parseJsonBody(await readBody(request, { maxBytes: options.maxBodyBytes, maxDepth: options.maxJsonDepth, timeoutMs: options.bodyTimeoutMs }), options.maxJsonDepth);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new ServerError('E_TIMEOUT', `the request ran past ${options.requestTimeoutMs} ms`));
    }, options.requestTimeoutMs);
    // A response closed before it finished means the client left: stop its generation.
    const onClose = () => {
      if (!response.writableFinished) controller.abort(new ServerError('E_CANCELLED', 'the client closed the connection'));
    };
    response.on('close', onClose);
    inFlight.add(controller);
    try {
      const context: RequestContext = { body, response, signal: controller.signal, service, registry };
      await route.handler(context);
    } catch (error) {
      // A generation stopped by the signal reports why the signal fired: timeout, shutdown or a departed client.
      if (controller.signal.aborted && !(error instanceof ServerError && error.status < 500)) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      response.off('close', onClose);
      inFlight.delete(controller);
    }
  }

  const server: Server = createServer({ requestTimeout: options.requestTimeoutMs + options.bodyTimeoutMs, headersTimeout: Math.min(options.bodyTimeoutMs, 60_000) }, (request, response) => {
    const started = performance.now();
    let route = 'other';
    metrics.requestStarted();
    response.on('close', () => metrics.requestFinished(route, response.statusCode, (performance.now() - started) / 1000));
    handle(request, response, (name) => (route = name)).catch((thrown: unknown) => {
      const error = toServerError(thrown);
      if (error.code === 'E_CANCELLED') {
        metrics.requestCancelled(route);
        return;
      }
      if (error.status >= 500 && error.code !== 'E_TIMEOUT' && error.code !== 'E_SHUTTING_DOWN') {
        const cause = error.cause ?? thrown;
        log(`${request.method} ${route}: ${error.code}: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
      }
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // A body that was refused unread leaves bytes on the socket: close it after the answer.
      sendError(response, error, error.code === 'E_BODY_TOO_LARGE' || error.code === 'E_BODY_TIMEOUT' || error.code === 'E_BAD_UTF8');
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ error: { code: status === 431 ? 'E_HEADERS_TOO_LARGE' : status === 408 ? 'E_BODY_TIMEOUT' : 'E_BAD_REQUEST', message: 'the request could not be parsed as HTTP/1.1', type: 'invalid_request_error' } });
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), options.shutdownGraceMs).unref());
      const drained = (async () => {
        while (inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await service.idle();
      })();
      if ((await Promise.race([drained, deadline])) === 'deadline') {
        log(`shutdown: ${inFlight.size} requests still running after ${options.shutdownGraceMs} ms; cancelling them`);
        for (const controller of inFlight) controller.abort(new ServerError('E_SHUTTING_DOWN', 'the server is shutting down'));
        await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      }
      server.closeAllConnections();
      await stopped;
      await registry.dispose();
    })());
  return { url, options, metrics, close };
}
