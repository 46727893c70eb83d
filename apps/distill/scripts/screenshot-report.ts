// Renders a report.html in headless chromium (Debian's, through puppeteer-core) and saves a PNG
// of the whole page: how docs/report.png is made.
//   npx tsx apps/distill/scripts/screenshot-report.ts out/example/report.html docs/report.png
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const [report, png] = process.argv.slice(2);
if (!report || !png) throw new Error('usage: screenshot-report.ts REPORT.html OUT.png');
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 820, height: 900, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: 'load' });
  await page.screenshot({ path: resolve(png) as `${string}.png`, fullPage: true });
} finally {
  await browser.close();
}
