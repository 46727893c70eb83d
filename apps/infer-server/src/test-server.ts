// Test helpers: a models folder holding the shared fixtures under short names, and a real
// server on 127.0.0.1 with a free port.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerOptionsInput } from './options.js';
import { startServer, type InferServer } from './server.js';

const shared = new URL('../../../../shared/', import.meta.url);
export const tinyWithPastDir = fileURLToPath(new URL('fixtures/tiny-llama-with-past', shared));
export const teacherDir = fileURLToPath(new URL('fixtures/teacher-llama-13m', shared));

/** A folder with `tiny` (tiny-llama-with-past) and `teacher` (teacher-llama-13m). */
export async function modelsFolder(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kd-server-models-'));
  await symlink(tinyWithPastDir, join(dir, 'tiny'), 'dir');
  await symlink(teacherDir, join(dir, 'teacher'), 'dir');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  server: InferServer;
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function testServer(options: Partial<ServerOptionsInput> = {}): Promise<TestServer> {
  const folder = await modelsFolder();
  const logs: string[] = [];
  const server = await startServer({ modelsDir: folder.dir, port: 0, ...options }, (line) => logs.push(line));
  return {
    server,
    url: server.url,
    logs,
    async stop() {
      await server.close();
      await folder.remove();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}
