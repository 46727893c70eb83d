// Public API of @kd/infer-server: start the server from code, or run its command line.
export { startServer } from './server.js';
export type { InferServer } from './server.js';
export { serverOptionsSchema } from './options.js';
export type { ServerOptions, ServerOptionsInput } from './options.js';
export { main, serve } from './main.js';
export { ServerError } from './errors.js';
export type { ServerErrorCode } from './errors.js';
