import { describe, expect, it } from 'vitest';
import { classificationAccuracy } from './accuracy.js';
import { chrF, chrFFromStatistics, chrFStatistics } from './chrf.js';

describe('chrF', () => {
  // Reference values from sacreBLEU 2.6.0: CHRF().corpus_score / sentence_score.
  const hypotheses = ['Datei nicht gefunden', 'Die Katze sitzt auf der Matte.', 'Größe: 12 Bytes'];
  const references = ['Datei wurde nicht gefunden', 'Die Katze saß auf der Matte.', 'Größe: 12 Byte'];

  it('matches sacreBLEU on a corpus and on single sentences', () => {
    expect(chrF(hypotheses, references)).toBeCloseTo(75.8897924967477, 9);
    const sentences = [65.63629785217152, 75.72179010040591, 97.87610258888854];
    hypotheses.forEach((hypothesis, i) => expect(chrFFromStatistics(chrFStatistics(hypothesis, references[i]))).toBeCloseTo(sentences[i], 9));
  });

  it('is 100 for identical text, 0 for an empty hypothesis, and ignores whitespace', () => {
    expect(chrF(['abc'], ['abc'])).toBe(100);
    expect(chrF([''], ['abc'])).toBe(0);
    expect(chrF(['a b  c'], ['abc'])).toBe(100);
    expect(() => chrF(['a'], [])).toThrow(RangeError);
  });
});

describe('classificationAccuracy', () => {
  it('counts hits and gives precision and recall per label', () => {
    const report = classificationAccuracy(['spam', 'ham', 'spam', 'ham'], ['spam', 'spam', 'spam', 'ham']);
    expect(report.accuracy).toBe(0.75);
    expect(report.correct).toBe(3);
    expect(report.labels.spam).toEqual({ support: 3, precision: 1, recall: 2 / 3 });
    expect(report.labels.ham).toEqual({ support: 1, precision: 0.5, recall: 1 });
  });
});
