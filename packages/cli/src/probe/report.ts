// What `mmft probe` shows: a terminal table (one row per condition) and probe.html, a
// self-contained page like the trainer's report.html (inline SVG and CSS, no scripts): bars of
// agreement and of the log-likelihood change per condition, a line per condition of the attention
// mass per layer when measured (lineChart of @mmft/trainer-standard), and the table.
import { lineChart } from '@mmft/trainer-standard';
import { fixed, formatTable } from '../eval/table';
import { CONDITION_LABELS, CONDITIONS, type Condition } from './conditions';
import type { ProbeResult } from './run-probe';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const show = (v: number | undefined, digits: number) => (v === undefined || Number.isNaN(v) ? '-' : fixed(v, digits));
const percent = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${fixed(100 * v, 1)}%`);

/** Rows of the table: condition, agreement, mean log-likelihood per token, its change from the true image, then each metric score. */
export function probeTable(result: ProbeResult): { header: string[]; rows: string[][] } {
  const present = CONDITIONS.filter((c) => result.conditions[c]);
  const scoreKeys = [...new Set(present.flatMap((c) => Object.keys(result.conditions[c]!.scores)))];
  const base = result.conditions.true?.meanLogLikelihood;
  const header = [`condition (${result.examples} examples)`, 'same answer as true', 'log-lik/token', 'Δ vs true', ...scoreKeys];
  const rows = present.map((c) => {
    const r = result.conditions[c]!;
    const delta = base === undefined ? undefined : r.meanLogLikelihood - base;
    return [
      CONDITION_LABELS[c],
      percent(r.agreement),
      show(r.meanLogLikelihood, 4),
      show(delta, 4),
      ...scoreKeys.map((k) => show(r.scores[k], 4)),
    ];
  });
  return { header, rows };
}

/** The table and the attention lines as printed on the terminal. */
export function probeLines(result: ProbeResult): string[] {
  const { header, rows } = probeTable(result);
  const lines = formatTable(header, rows);
  if (result.imageless > 0) lines.push(`left out ${result.imageless} examples without an image`);
  if (result.attentionUnavailable) {
    lines.push(`attention mass on image positions: ${result.attentionUnavailable}`);
  } else {
    const present = CONDITIONS.filter((c) => result.conditions[c]?.attention);
    const layers = Math.max(0, ...present.map((c) => result.conditions[c]!.attention!.length));
    lines.push(
      '',
      ...formatTable(
        ['attention mass on image positions', ...present.map((c) => CONDITION_LABELS[c])],
        Array.from({ length: layers }, (_, l) => [`layer ${l}`, ...present.map((c) => show(result.conditions[c]!.attention![l], 4))]),
      ),
    );
  }
  return lines;
}

/** A horizontal bar chart of one value per condition (negative values drawn left of the axis). */
export function barChart(title: string, bars: ReadonlyArray<readonly [string, number]>, format: (v: number) => string): string {
  const finite = bars.filter(([, v]) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const [width, row, labelW] = [560, 28, 190];
  const lo = Math.min(0, ...finite.map(([, v]) => v));
  const hi = Math.max(0, ...finite.map(([, v]) => v));
  const span = hi - lo || 1;
  const plot = width - labelW - 70;
  const x = (v: number) => labelW + ((v - lo) / span) * plot;
  const body = finite
    .map(([label, v], i) => {
      const y = 10 + i * row;
      const [a, b] = [x(Math.min(0, v)), x(Math.max(0, v))];
      return `<text x="4" y="${y + 15}">${escape(label)}</text><rect x="${a.toFixed(1)}" y="${y + 3}" width="${Math.max(1, b - a).toFixed(1)}" height="${row - 8}" fill="#2463eb"/><text x="${(b + 6).toFixed(1)}" y="${y + 15}">${escape(format(v))}</text>`;
    })
    .join('');
  const height = 20 + finite.length * row;
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">
<line x1="${x(0).toFixed(1)}" y1="4" x2="${x(0).toFixed(1)}" y2="${height - 4}" stroke="#999"/>${body}</svg></figure>`;
}

/** probe.html for `result` (title: what was probed). */
export function probeHtml(title: string, result: ProbeResult): string {
  const present = CONDITIONS.filter((c) => result.conditions[c]);
  const label = (c: Condition) => CONDITION_LABELS[c];
  const base = result.conditions.true?.meanLogLikelihood ?? Number.NaN;
  const charts = [
    barChart(
      'answers equal to the true-image answer',
      present.filter((c) => c !== 'true').map((c) => [label(c), result.conditions[c]!.agreement] as const),
      (v) => `${fixed(100 * v, 1)}%`,
    ),
    barChart(
      'change in mean log-likelihood per reference token vs the true image (nats)',
      present.filter((c) => c !== 'true').map((c) => [label(c), result.conditions[c]!.meanLogLikelihood - base] as const),
      (v) => fixed(v, 4),
    ),
    ...present
      .filter((c) => result.conditions[c]!.attention)
      .map((c) =>
        lineChart(
          `attention mass on image positions by layer (x: layer), ${label(c)}`,
          result.conditions[c]!.attention!.map((v, l) => [l, v] as const),
        ),
      ),
  ];
  const { header, rows } = probeTable(result);
  const table = `<table><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const notes = [
    result.attentionUnavailable ? `Attention mass on image positions: ${result.attentionUnavailable}.` : '',
    result.imageless > 0 ? `Left out ${result.imageless} examples without an image.` : '',
    `Shuffled condition: seeded derangement (seed ${result.seed}).`,
  ].filter(Boolean);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}svg text{font-size:12px}</style></head>
<body><h1>${escape(title)}</h1><p>Does the model look at the image? The same ${result.examples} examples with their own image, a blank image and another example's image.</p>
${table}${charts.join('\n')}${notes.map((n) => `<p>${escape(n)}</p>`).join('')}</body></html>
`;
}
