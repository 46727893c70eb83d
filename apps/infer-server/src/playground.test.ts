/// <reference lib="dom" />
// The playground in a real browser (Debian's chromium, driven by puppeteer-core): it lists the
// models, runs every task and shows the streamed answer or the label scores as bars.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from './test-server.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(chromium)) throw new Error(`no browser at ${chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  server = await testServer();
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 820 });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function runTask(task: string, input: string, fields: Record<string, string> = {}): Promise<void> {
  await page.select('#task', task);
  await page.$eval('#input', (element, value) => ((element as HTMLTextAreaElement).value = value), input);
  for (const [id, value] of Object.entries(fields)) await page.$eval(`#${id}`, (element, v) => ((element as HTMLInputElement).value = v), value);
  const before = await page.$eval('body', (body) => Number(body.dataset.done ?? 0));
  await page.click('#run');
  await page.waitForFunction((count) => Number(document.body.dataset.done ?? 0) > count, { timeout: 60_000 }, before);
}

describe('playground', () => {
  it('loads with no external requests and lists the models', async () => {
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(`${server.url}/`, { waitUntil: 'networkidle0' });
    const models = await page.$$eval('#model option', (options) => options.map((option) => (option as HTMLOptionElement).value));
    expect(models).toEqual(['teacher', 'tiny']);
    expect(requests.every((url) => url.startsWith(server.url))).toBe(true);
    // The Content-Security-Policy allows the page's own script and style: nothing was blocked.
    expect(errors).toEqual([]);
  });

  it('streams a generation, code and a translation into the page', async () => {
    await page.select('#model', 'tiny');
    for (const [task, input, fields] of [
      ['generate', 'We the people', {}],
      ['code', 'def add(a, b):', {}],
      ['translate', 'Good morning', { from: 'English', to: 'German' }],
      ['chat', 'Hello there', {}],
    ] as const) {
      await runTask(task, input, fields);
      const output = await page.$eval('#output', (element) => element.textContent ?? '');
      const status = await page.$eval('#status', (element) => element.textContent ?? '');
      expect(status, task).toMatch(/^done/);
      expect(output.length, task).toBeGreaterThan(0);
    }
  });

  it('shows classification scores as bars', async () => {
    await page.select('#model', 'teacher');
    await runTask('classify', 'WIN a FREE prize, click now', { labels: 'spam, ham' });
    const bars = await page.$$eval('#scores .bar', (rows) => rows.map((row) => ({ label: row.children[0].textContent, width: (row.querySelector('.fill') as HTMLElement).style.width })));
    expect(bars.map((bar) => bar.label)).toEqual(['spam', 'ham']);
    const widths = bars.map((bar) => Number.parseFloat(bar.width));
    expect(widths[0] + widths[1]).toBeCloseTo(100, 0);
    expect(await page.$eval('#output', (element) => element.textContent)).toMatch(/^(spam|ham)$/);
    if (process.env.KD_SCREENSHOT) {
      const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
      await mkdir(docs, { recursive: true });
      await page.screenshot({ path: `${docs}infer-server-playground.png` });
    }
  });

  it('reports a server error in the page', async () => {
    await page.select('#model', 'tiny');
    await runTask('generate', 'x', { max: '100000' });
    expect(await page.$eval('#status', (element) => element.className)).toBe('error');
    expect(await page.$eval('#status', (element) => element.textContent)).toContain('max_tokens');
  });
});
