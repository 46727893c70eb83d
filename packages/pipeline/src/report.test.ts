import { describe, expect, it } from 'vitest';
import { lossChart, renderReport } from './report.js';

/** The `points` of every polyline of a class, as [x, y] pairs. */
function polyline(svg: string, kind: string): number[][] {
  const match = svg.match(new RegExp(`<polyline points="([^"]*)" class="${kind}"/>`));
  if (!match) return [];
  return match[1].split(' ').map((pair) => pair.split(',').map(Number));
}

const losses = Array.from({ length: 40 }, (_, index) => 8 - index * 0.1 + (index % 3) * 0.05);
const evalLosses = [0, 10, 20, 30, 40].map((step) => ({ step, loss: 8.5 - step * 0.08 }));

describe('report loss curves', () => {
  it('draws the train curve and the eval curve on one step axis, with a legend naming both', () => {
    const svg = lossChart(losses, evalLosses);
    const raw = polyline(svg, 'raw');
    const smooth = polyline(svg, 'smooth');
    const evaluated = polyline(svg, 'eval');
    expect(raw).toHaveLength(40);
    expect(smooth).toHaveLength(40);
    expect(evaluated).toHaveLength(5);
    expect(svg.match(/<circle [^>]*class="eval-point"/g)).toHaveLength(5);
    expect(svg).toContain('<title>step 20: 6.9000</title>');
    expect(svg).toContain('aria-label="train and eval loss per step"');
    expect(svg).toContain('>train loss per step</text>');
    expect(svg).toContain('>eval: held-out cross-entropy</text>');
    // Step 40 of both curves falls on the same x; the eval curve starts left of train step 1 (at step 0).
    expect(evaluated.at(-1)![0]).toBe(raw.at(-1)![0]);
    expect(evaluated[0][0]).toBeLessThan(raw[0][0]);
    // The y scale covers both: the highest loss (the eval point at step 0) is at the top of the plot.
    const ys = [...raw, ...evaluated].map(([, y]) => y);
    expect(evaluated[0][1]).toBe(Math.min(...ys));
    // Axis ends: step 0 and step 40.
    expect(svg).toMatch(/text-anchor="start">0<\/text>/);
    expect(svg).toMatch(/text-anchor="end">40<\/text>/);
  });

  it('draws no eval curve without eval points, and skips non-finite ones', () => {
    const trainOnly = lossChart(losses);
    expect(polyline(trainOnly, 'raw')).toHaveLength(40);
    expect(trainOnly).not.toContain('class="eval');
    expect(trainOnly).not.toContain('held-out');
    expect(trainOnly).toMatch(/text-anchor="start">1<\/text>/);
    const withNaN = lossChart(losses, [...evalLosses.slice(0, 2), { step: 25, loss: Number.NaN }]);
    expect(polyline(withNaN, 'eval')).toHaveLength(2);
    expect(withNaN).not.toContain('NaN');
  });

  it('the page captions the eval curve with its tokens and last point', () => {
    const page = renderReport({ losses, evalLosses, evalTokens: 4096, createdAt: '2026-01-01T00:00:00Z' });
    expect(page).toContain('<h2>Train and eval loss</h2>');
    expect(page).toContain('eval: mean cross-entropy per token (nats) on 4,096 held-out tokens at 5 steps, last 5.3000 at step 40');
    expect(page).not.toMatch(/<script|<link|src="http/);
    expect(renderReport({ losses })).toContain('<h2>Training loss</h2>');
  });
});
