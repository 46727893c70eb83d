// `kd serve` in its own process, as a user starts it: it listens, answers over real HTTP from a
// fixture model, and stops cleanly (exit 0) on Ctrl-C or SIGTERM.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, kd, sharedDir, startKd } from './test-fixtures.js';

const models = mkdtempSync(join(tmpdir(), 'kd-e2e-serve-'));
symlinkSync(`${sharedDir}fixtures/tiny-llama-with-past`, join(models, 'tiny'), 'dir');
afterAll(() => rmSync(models, { recursive: true, force: true }));

/** Resolves with the server's URL once the child says it listens. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: Buffer) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        child.stderr!.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stderr!.on('data', onData);
    child.once('close', (code) => reject(new Error(`kd serve exited with ${code} before listening: ${stderr}`)));
  });
}

describe('kd serve', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serves a fixture model over HTTP and exits 0 on ${signal}`, async () => {
      const child = startKd(['serve', '--models-dir', models, '--port', '0', '--max-tokens', '16']);
      const done = collect(child);
      const url = await listening(child);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const generated = await fetch(`${url}/v1/generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'We the people', max_tokens: 8, temperature: 0 }),
      });
      expect(generated.status).toBe(200);
      const body = (await generated.json()) as { text: string; usage: { completion_tokens: number } };
      expect(body.text.length).toBeGreaterThan(0);
      expect(body.usage.completion_tokens).toBeGreaterThan(0);
      // The server's own limit came from the flag: more than --max-tokens is refused.
      const tooMany = await fetch(`${url}/v1/generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'We the people', max_tokens: 17 }),
      });
      expect(tooMany.status).toBe(400);
      child.kill(signal);
      const result = await done;
      expect(result.signal).toBeNull();
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`${signal}: finishing in-flight requests`);
      expect(result.stderr).toMatch(/stopped\n$/);
    });
  }

  it('refuses a bad flag value with the flag named, and a models folder that does not exist', async () => {
    const [port, missing] = await Promise.all([
      kd(['serve', '--models-dir', models, '--port', '70000']),
      kd(['serve', '--models-dir', join(models, 'absent')]),
    ]);
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/^kd: E_USAGE: --port: .+\n$/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^kd: E_OPTIONS: --models-dir \S+: not a folder/);
  });
});
