import { describe, expect, it } from 'vitest';
import { createRandom } from './random.js';
import { FidelityMeter } from './fidelity-meter.js';
import { sampleRow } from './sample.js';
import { selectRow } from './select.js';
import { normalize } from './selector-suite.js';

const full = normalize([50, 20, 10, 8, 6, 3, 2, 1]);

describe('FidelityMeter', () => {
  it('scores an exact row as lossless and a truncated row by what it drops', () => {
    const exact = new FidelityMeter();
    exact.add(full, selectRow(full, { mode: 'fixed', k: 8 }), 0);
    expect(exact.report()).toMatchObject({ positions: 1, meanKept: 8, top1Agreement: 1 });
    expect(exact.report().capturedMass).toBeCloseTo(1, 6);
    expect(exact.report().klFullDecoded).toBeLessThan(1e-6);

    const truncated = new FidelityMeter();
    truncated.add(full, selectRow(full, { mode: 'fixed', k: 2 }), 0);
    expect(truncated.report().capturedMass).toBeCloseTo(0.7, 5);
    expect(truncated.report().klFullDecoded).toBeGreaterThan(0.01);
  });

  it('measures calibration: a row that is always right at confidence 0.5 has ECE 0.5, the reference its own', () => {
    const meter = new FidelityMeter({ bins: 10 });
    for (let i = 0; i < 10; i++) meter.add(full, selectRow(full, { mode: 'fixed', k: 3 }), 0);
    const report = meter.report();
    expect(report.calibrationPositions).toBe(10);
    expect(report.ece).toBeCloseTo(0.5, 5);
    expect(report.eceFull).toBeCloseTo(0.5, 5);
    // Wrong every time: ECE equals the confidence.
    const wrong = new FidelityMeter({ bins: 10 });
    wrong.add(full, selectRow(full, { mode: 'fixed', k: 3 }), 7);
    expect(wrong.report().ece).toBeCloseTo(0.5, 5);
    // Positions without a next token do not enter the ECE.
    const none = new FidelityMeter();
    none.add(full, selectRow(full, { mode: 'fixed', k: 3 }));
    expect(none.report()).toMatchObject({ calibrationPositions: 0, ece: 0 });
  });

  it('captured mass of a sampled row is the true mass of the ids it drew', () => {
    const meter = new FidelityMeter();
    const row = sampleRow(full, { mode: 'sampled', samples: 4, proposalTemperature: 1, seed: 1 }, createRandom(1, 2));
    meter.add(full, row, 0);
    let mass = 0;
    for (const id of row.ids) mass += full[id];
    expect(meter.report().capturedMass).toBeCloseTo(mass, 6);
    expect(Number.isFinite(meter.report().klFullDecoded)).toBe(true);
  });
});
