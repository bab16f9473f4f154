// report.html: a self-contained page (inline SVG, inline CSS, no scripts or external assets) with
// the loss curve, one curve per evaluation score, a table of the final metrics and, when the run
// evaluated before its first step, the scores before and after training side by side.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { LogEntry } from '../checkpoint/trainer-state';
import { ioError } from '../loop/output-dir';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** An inline SVG line chart of (x, y) points, with min/max labels. */
export function lineChart(title: string, points: ReadonlyArray<readonly [number, number]>, width = 560, height = 220): string {
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return '';
  const pad = 40;
  const xs = finite.map(([x]) => x);
  const ys = finite.map(([, y]) => y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (y: number) => height - pad - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  const d = finite.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const dots =
    finite.length <= 50 ? finite.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5"/>`).join('') : '';
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">
<rect x="${pad}" y="${pad / 2}" width="${width - 2 * pad}" height="${height - 1.5 * pad}" fill="none" stroke="#ccc"/>
<path d="${d}" fill="none" stroke="#2463eb" stroke-width="1.5"/><g fill="#2463eb">${dots}</g>
<text x="4" y="${sy(y1) + 4}">${y1.toPrecision(4)}</text><text x="4" y="${sy(y0) + 4}">${y0.toPrecision(4)}</text>
<text x="${pad}" y="${height - 8}">step ${x0}</text><text x="${width - pad}" y="${height - 8}" text-anchor="end">step ${x1}</text></svg></figure>`;
}

/**
 * Write <output>/report.html from the run's log history and final metrics.
 *
 * @example
 * await writeReport(outputDir, { title: 'clip-shapes', history, finalMetrics: { 'retrieval.i2t_R@1': 62.5 } });
 */
export async function writeReport(
  outputDir: string,
  report: { title: string; history: readonly LogEntry[]; finalMetrics: Readonly<Record<string, number>> },
): Promise<string> {
  const steps = report.history.filter((e) => e.kind === 'train');
  const evals = report.history.filter((e) => e.kind === 'eval');
  const series = (entries: readonly LogEntry[], key: string) =>
    entries.filter((e) => typeof e[key] === 'number').map((e) => [e.step as number, e[key] as number] as const);
  const evalKeys = [
    ...new Set(evals.flatMap((e) => Object.keys(e).filter((k) => typeof e[k] === 'number' && k !== 'step' && k !== 'epoch'))),
  ];
  const charts = [
    lineChart('training loss', series(steps, 'loss')),
    lineChart('learning rate', series(steps, 'lr')),
    ...evalKeys.map((k) => lineChart(k, series(evals, k))),
  ];
  const show = (v: number | undefined) => (v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(5));
  const rows = Object.entries(report.finalMetrics)
    .map(([k, v]) => `<tr><td>${escape(k)}</td><td>${show(v)}</td></tr>`)
    .join('');
  // Before: the evaluation at step 0; after: the last one of the run (a resumed run's history holds both).
  const before = evals.find((e) => e.step === 0);
  const after = [...evals].reverse().find((e) => typeof e.step === 'number' && e.step > 0);
  const scoreKeys = (e: LogEntry) => Object.keys(e).filter((k) => typeof e[k] === 'number' && k !== 'step' && k !== 'epoch');
  const compared =
    before && after
      ? `<h2>Before and after training</h2><table><tr><th>score</th><th>before</th><th>after (step ${after.step as number})</th></tr>${scoreKeys(
          after,
        )
          .map((k) => `<tr><td>${escape(k)}</td><td>${show(before[k] as number | undefined)}</td><td>${show(after[k] as number)}</td></tr>`)
          .join('')}</table>`
      : '';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(report.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#555}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 10px}</style>
</head><body><h1>${escape(report.title)}</h1><p>${steps.length} logged steps, ${evals.length} evaluations.</p>
<h2>Final metrics</h2><table>${rows}</table>${compared}<h2>Curves</h2>${charts.join('\n')}</body></html>\n`;
  const file = path.join(outputDir, 'report.html');
  try {
    await fs.writeFile(file, html);
  } catch (error) {
    await fs.rm(file, { force: true }).catch(() => undefined); // never leave a truncated page
    throw ioError('write', file, error);
  }
  return file;
}
