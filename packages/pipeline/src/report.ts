// The run report: one self-contained HTML page (inline SVG and CSS, no script, nothing fetched)
// with the train and eval loss curves, the evaluation table and the labels' storage beside full fp32
// rows. It opens from disk in any browser and can be mailed or archived as one file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { EvaluationResult } from './evaluate.js';

export interface ReportLabels {
  /** Token positions stored and the bytes of the dataset's parts. */
  tokens: number;
  bytes: number;
  /** The teacher's vocabulary: a full fp32 row is 4 × vocabSize bytes. */
  vocabSize: number;
  meanKept?: number;
  meanTailMass?: number;
}

/** One point of the eval curve: the weights after `step` optimizer steps, their mean CE per held-out token. */
export interface EvalPoint {
  step: number;
  loss: number;
}

export interface ReportInput {
  title?: string;
  /** Training loss per optimizer step (a checkpoint's `losses`). */
  losses?: readonly number[];
  /** The held-out eval curve (a checkpoint's `evalLosses`): cross-entropy per token after `step` steps. */
  evalLosses?: readonly EvalPoint[];
  /** Held-out tokens behind each eval point. */
  evalTokens?: number;
  /** Evaluated models, one table row each. */
  evaluations?: readonly { name: string; result: EvaluationResult }[];
  labels?: ReportLabels;
  /** Free lines shown under the title (inputs, settings). */
  notes?: readonly string[];
  /** When the report was made (ISO 8601); default now. */
  createdAt?: string;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function figure(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

function bytesText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Mean of the `width` values ending at each step: the trend through the per-batch noise. */
function movingAverage(values: readonly number[], width: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= width) sum -= values[i - width];
    out.push(sum / Math.min(i + 1, width));
  }
  return out;
}

/**
 * The loss curves as one SVG line chart over optimizer steps: the training loss of every step
 * (raw faint, moving average bold) and, when recorded, the held-out eval loss (points joined).
 * Train loss n is the loss of step n's batch; eval point n is measured after step n.
 */
export function lossChart(losses: readonly number[], evalLosses: readonly EvalPoint[] = []): string {
  const evalFinite = evalLosses.filter((point) => Number.isFinite(point.loss));
  const finite = [...losses.filter((loss) => Number.isFinite(loss)), ...evalFinite.map((point) => point.loss)];
  if (finite.length === 0) return '<p class="empty">no training losses recorded</p>';
  const width = 640;
  const height = 260;
  const left = 56;
  const right = 16;
  const top = 30;
  const bottom = 36;
  const minimum = Math.min(...finite);
  const maximum = Math.max(...finite);
  const span = maximum - minimum || 1;
  // Steps 1…n of the train curve; the eval curve may start at step 0.
  const firstStep = evalFinite.length > 0 && evalFinite[0].step < 1 ? 0 : 1;
  const lastStep = Math.max(losses.length, ...evalFinite.map((point) => point.step), firstStep + 1);
  const x = (step: number) => left + ((width - left - right) * (step - firstStep)) / Math.max(1, lastStep - firstStep);
  const y = (loss: number) => top + ((height - top - bottom) * (maximum - loss)) / span;
  const points = (values: readonly number[]) =>
    values
      .map((value, index) => (Number.isFinite(value) ? `${x(index + 1).toFixed(1)},${y(value).toFixed(1)}` : ''))
      .filter(Boolean)
      .join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => minimum + fraction * span);
  const grid = ticks
    .map((tick) => `<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" class="grid"/><text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick.toFixed(2)}</text>`)
    .join('');
  const smooth = movingAverage(losses.map((loss) => (Number.isFinite(loss) ? loss : minimum)), Math.max(1, Math.round(losses.length / 20)));
  const evalLine = evalFinite.map((point) => `${x(point.step).toFixed(1)},${y(point.loss).toFixed(1)}`).join(' ');
  const evalMarks = evalFinite
    .map((point) => `<circle cx="${x(point.step).toFixed(1)}" cy="${y(point.loss).toFixed(1)}" r="3" class="eval-point"><title>step ${point.step}: ${point.loss.toFixed(4)}</title></circle>`)
    .join('');
  const legendEntry = (index: number, kind: string, label: string) => {
    const at = left + 8 + index * 190;
    return `<line x1="${at}" x2="${at + 22}" y1="12" y2="12" class="${kind}"/><text x="${at + 28}" y="16" class="legend">${label}</text>`;
  };
  const legend = [
    legendEntry(0, 'raw', 'train loss per step'),
    legendEntry(1, 'smooth', 'train, moving average'),
    ...(evalFinite.length > 0 ? [legendEntry(2, 'eval', 'eval: held-out cross-entropy')] : []),
  ].join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${evalFinite.length > 0 ? 'train and eval loss per step' : 'training loss per step'}" class="loss-chart">`,
    grid,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" class="axis"/><line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" class="axis"/>`,
    `<text x="${left}" y="${height - bottom + 18}" text-anchor="start">${firstStep}</text><text x="${width - right}" y="${height - bottom + 18}" text-anchor="end">${lastStep}</text>`,
    `<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">step</text>`,
    legend,
    `<polyline points="${points(losses)}" class="raw"/>`,
    `<polyline points="${points(smooth)}" class="smooth"/>`,
    ...(evalFinite.length > 0 ? [`<polyline points="${evalLine}" class="eval"/>`, evalMarks] : []),
    '</svg>',
  ].join('');
}

/** Labels against full fp32 rows as two bars on a log scale (they differ by orders of magnitude). */
function storageChart(labels: ReportLabels): string {
  const full = labels.tokens * labels.vocabSize * 4;
  const width = 640;
  const barLeft = 150;
  const scale = (bytes: number) => ((width - barLeft - 90) * Math.log10(Math.max(bytes, 1))) / Math.log10(Math.max(full, labels.bytes, 10));
  const bar = (row: number, label: string, bytes: number, kind: string) =>
    `<text x="${barLeft - 8}" y="${row * 34 + 22}" text-anchor="end">${label}</text><rect x="${barLeft}" y="${row * 34 + 8}" width="${scale(bytes).toFixed(1)}" height="22" class="${kind}"/><text x="${(barLeft + scale(bytes) + 6).toFixed(1)}" y="${row * 34 + 24}">${bytesText(bytes)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 76" width="${width}" height="76" role="img" aria-label="storage of the labels against full fp32 rows (log scale)" class="storage-chart">${bar(0, 'labels', labels.bytes, 'labels')}${bar(1, 'full fp32 rows', full, 'full')}</svg>`;
}

function evaluationTable(evaluations: readonly { name: string; result: EvaluationResult }[]): string {
  const head = ['model', 'perplexity', 'bits / byte', 'tokens', 'KL to teacher', 'aligned', 'spam/ham accuracy', 'chrF'];
  const rows = evaluations.map(({ name, result }) => {
    const cells = [
      escape(name),
      figure(result.perplexity, 2),
      figure(result.bitsPerByte, 4),
      result.tokens.toLocaleString('en-US'),
      figure(result.klToTeacher, 4),
      result.alignedFraction === null ? '—' : `${(100 * result.alignedFraction).toFixed(1)}%`,
      result.spamAccuracy === null ? '—' : `${figure(result.spamAccuracy, 3)} (${result.classifyExamples})`,
      result.chrF === null ? '—' : `${figure(result.chrF, 2)} (${result.translateExamples})`,
    ];
    return `<tr>${cells.map((cell, index) => (index === 0 ? `<th scope="row">${cell}</th>` : `<td>${cell}</td>`)).join('')}</tr>`;
  });
  return `<table class="evaluation"><thead><tr>${head.map((cell) => `<th scope="col">${cell}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function labelsTable(labels: ReportLabels): string {
  const full = labels.tokens * labels.vocabSize * 4;
  const rows = [
    ['token positions', labels.tokens.toLocaleString('en-US')],
    ['labels on disk', `${bytesText(labels.bytes)} (${(labels.bytes / Math.max(labels.tokens, 1)).toFixed(1)} bytes/token)`],
    ['full fp32 rows', `${bytesText(full)} (${(labels.vocabSize * 4).toLocaleString('en-US')} bytes/token, vocabulary ${labels.vocabSize.toLocaleString('en-US')})`],
    ['smaller by', `${Math.round(full / Math.max(labels.bytes, 1)).toLocaleString('en-US')}×`],
    ...(labels.meanKept !== undefined ? [['mean probabilities kept', labels.meanKept.toFixed(1)]] : []),
    ...(labels.meanTailMass !== undefined ? [['mean tail mass', labels.meanTailMass.toFixed(4)]] : []),
  ];
  return `<table class="labels"><tbody>${rows.map(([name, value]) => `<tr><th scope="row">${name}</th><td>${value}</td></tr>`).join('')}</tbody></table>`;
}

const style = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2330; margin: 2rem auto; max-width: 760px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.notes { color: #5a6272; margin: 0; padding-left: 1.1rem; } .empty { color: #5a6272; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #dde1e8; text-align: right; }
th[scope=row], thead th:first-child { text-align: left; } thead th { border-bottom: 2px solid #b8bfcc; }
svg text { font: 11px system-ui, sans-serif; fill: #5a6272; }
.grid { stroke: #eceef2; } .axis { stroke: #8a92a2; }
.raw { fill: none; stroke: #9cb7e6; stroke-width: 1; } .smooth { fill: none; stroke: #1f5bc4; stroke-width: 2; }
.eval { fill: none; stroke: #d2691e; stroke-width: 2; stroke-dasharray: 5 3; } .eval-point { fill: #d2691e; }
.labels rect, rect.labels { fill: #1f8a5b; } rect.full { fill: #c2473a; }
`;

/** The report page as one HTML string. */
export function renderReport(input: ReportInput): string {
  const title = input.title ?? 'kd run report';
  const sections: string[] = [];
  if (input.losses) {
    const evalLosses = input.evalLosses ?? [];
    const lastEval = evalLosses.at(-1);
    const caption = [
      `${input.losses.length} steps; last train loss ${figure(input.losses.at(-1), 4)} (the objective's loss on each step's batch)`,
      ...(lastEval
        ? [`eval: mean cross-entropy per token (nats) on ${input.evalTokens === undefined ? 'the' : input.evalTokens.toLocaleString('en-US')} held-out tokens at ${evalLosses.length} steps, last ${figure(lastEval.loss, 4)} at step ${lastEval.step}`]
        : []),
    ].join('; ');
    sections.push(`<section id="training"><h2>${lastEval ? 'Train and eval loss' : 'Training loss'}</h2>${lossChart(input.losses, evalLosses)}<p class="empty">${escape(caption)}</p></section>`);
  }
  if (input.evaluations && input.evaluations.length > 0) sections.push(`<section id="evaluation"><h2>Evaluation</h2>${evaluationTable(input.evaluations)}</section>`);
  if (input.labels) sections.push(`<section id="labels"><h2>Labels: storage against full fp32 rows</h2>${storageChart(input.labels)}${labelsTable(input.labels)}</section>`);
  const notes = input.notes && input.notes.length > 0 ? `<ul class="notes">${input.notes.map((note) => `<li>${escape(note)}</li>`).join('')}</ul>` : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escape(title)}</title><style>${style}</style></head>`,
    `<body><h1>${escape(title)}</h1><p class="empty">${escape(input.createdAt ?? new Date().toISOString())}</p>${notes}${sections.join('')}</body></html>`,
    '',
  ].join('\n');
}

/** Writes the report beside its final name and renames it in, so a reader never sees half a page. */
export async function writeReport(path: string, input: ReportInput): Promise<string> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  await writeFile(partial, renderReport(input));
  await rename(partial, target);
  return target;
}
