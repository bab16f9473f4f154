// What a few-shot sweep shows: the terminal table (rows metrics, columns shots), report.html with a
// line of each metric against shots, and, for scripts/fewshot-plot.mjs, one SVG with a panel per
// metric and a line per run (bridge) plus a markdown table. Self-contained inline SVG, no scripts,
// like the other reports (probe/report.ts, eval/robustness-report.ts).
import type { ShotsDocument } from './shots';
import { fixed, formatTable } from './table';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const show = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : fixed(v, 4));

/** Distinct colours for up to eight lines (then they repeat). */
const COLOURS = ['#2463eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

/** The metric keys of a sweep, in the order its passes report them (a key missing at some k still gets a row). */
export function shotsMetricKeys(doc: Pick<ShotsDocument, 'shots'>): string[] {
  return [...new Set(doc.shots.flatMap((e) => Object.keys(e.metrics)))];
}

/** Rows are metrics (then eval_loss when any pass has one), columns the shots. */
export function shotsTable(doc: ShotsDocument): { header: string[]; rows: string[][] } {
  const header = [`metric (${doc.examples} examples)`, ...doc.shots.map((e) => `${e.shots}-shot`)];
  const rows = shotsMetricKeys(doc).map((k) => [k, ...doc.shots.map((e) => show(e.metrics[k]))]);
  if (doc.shots.some((e) => e.evalLoss !== undefined)) rows.push(['eval_loss', ...doc.shots.map((e) => show(e.evalLoss))]);
  return { header, rows };
}

/** The table as printed. */
export const shotsLines = (doc: ShotsDocument): string[] => formatTable(shotsTable(doc).header, shotsTable(doc).rows);

/** A line of a chart: its name and its [x, y] points. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Geometry of one panel, in SVG user units. */
const PANEL = { width: 360, height: 240, left: 52, right: 16, top: 28, bottom: 36 };

/** The y tick step: 1, 2, 2.5 or 5 times a power of ten, the smallest that spans `range` in at most five steps. */
export function niceStep(range: number): number {
  if (!(range > 0)) return 1;
  const raw = range / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw * (1 - 1e-12))!;
}

/**
 * One panel as an SVG group at (x, y): axes, a tick per x value (shots), y ticks every niceStep
 * from min(0, lowest) to the highest value (both rounded out to a tick), a line with dots per
 * series. The y axis starts at 0 for scores ≥ 0 so that a small gain does not look large.
 * Non-finite points are left out.
 */
function panel(title: string, series: readonly Series[], at: readonly [number, number]): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const points = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = [...new Set(points.map(([x]) => x))].sort((a, b) => a - b);
  const ys = points.map(([, y]) => y);
  const [x0, x1] = [xs[0] ?? 0, xs.at(-1) ?? 1];
  const step = niceStep(Math.max(0, ...ys) - Math.min(0, ...ys));
  const [y0, y1] = [Math.floor(Math.min(0, ...ys) / step) * step, Math.ceil(Math.max(0, ...ys) / step) * step];
  const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (width - left - right);
  const sy = (y: number) => height - bottom - ((y - y0) / (y1 - y0 || 1)) * (height - top - bottom);
  const f = (v: number) => v.toFixed(1);
  const yTicks = Array.from({ length: Math.round((y1 - y0) / step) + 1 }, (_, i) => y0 + i * step);
  const grid = [
    `<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#ccc"/>`,
    ...yTicks.map(
      (v) =>
        `<line x1="${left}" y1="${f(sy(v))}" x2="${width - right}" y2="${f(sy(v))}" stroke="#eee"/><text x="${left - 4}" y="${f(sy(v) + 4)}" text-anchor="end">${escape(Number(v.toPrecision(6)).toString())}</text>`,
    ),
    ...xs.map((x) => `<text x="${f(sx(x))}" y="${height - bottom + 16}" text-anchor="middle">${x}</text>`),
    `<text x="${(left + width - right) / 2}" y="${height - 4}" text-anchor="middle">shots</text>`,
  ];
  const lines = series.map((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const finite = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (finite.length === 0) return '';
    const d = finite.map(([x, y], j) => `${j ? 'L' : 'M'}${f(sx(x))},${f(sy(y))}`).join(' ');
    const dots = finite
      .map(([x, y]) => `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" data-series="${escape(s.name)}" data-x="${x}" data-y="${y}"/>`)
      .join('');
    return `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/><g fill="${colour}">${dots}</g>`;
  });
  return `<g transform="translate(${at[0]},${at[1]})">${grid.join('')}${lines.join('')}</g>`;
}

/** The legend: a coloured swatch and the name of each series, in one row. */
function legend(names: readonly string[], y: number): string {
  return names
    .map((name, i) => {
      const x = 12 + i * 150;
      return `<rect x="${x}" y="${y - 9}" width="14" height="4" fill="${COLOURS[i % COLOURS.length]}"/><text x="${x + 20}" y="${y - 4}">${escape(name)}</text>`;
    })
    .join('');
}

/**
 * One SVG of metric panels (two per row), each with a line per series; a legend on top when there
 * is more than one series.
 *
 * @example
 * shotsSvg('few-shot on domain B', [{ metric: 'caption.cider', series: [{ name: 'idefics', points: [[0, 12], [4, 30]] }] }]);
 */
export function shotsSvg(title: string, panels: ReadonlyArray<{ metric: string; series: readonly Series[] }>): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const header = names.length > 1 ? 44 : 28;
  const columns = Math.min(2, Math.max(1, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const [width, height] = [columns * PANEL.width, header + rows * PANEL.height];
  const body = panels.map((p, i) =>
    panel(p.metric, p.series, [(i % columns) * PANEL.width, header + Math.floor(i / columns) * PANEL.height]),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escape(title)}">
<rect width="${width}" height="${height}" fill="#fff"/><text x="12" y="18" font-size="14" font-weight="bold">${escape(title)}</text>${names.length > 1 ? legend(names, 38) : ''}
${body.join('\n')}
</svg>
`;
}

/** report.html of one sweep: the table and a panel per metric (eval loss included when reported). */
export function shotsHtml(title: string, doc: ShotsDocument): string {
  const { header, rows } = shotsTable(doc);
  const table = `<table><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const keys = [...shotsMetricKeys(doc), ...(doc.shots.some((e) => e.evalLoss !== undefined) ? ['eval_loss'] : [])];
  const value = (e: ShotsDocument['shots'][number], k: string) =>
    k === 'eval_loss' ? (e.evalLoss ?? Number.NaN) : (e.metrics[k] ?? Number.NaN);
  const panels = keys.map((k) => ({
    metric: k,
    series: [{ name: doc.modelType, points: doc.shots.map((e) => [e.shots, value(e, k)] as const) }],
  }));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>${escape(title)}</h1><p>${doc.examples} examples of data.eval, each after k in-context examples (objective.few_shot.shots = k).</p>
${table}
${panels.length > 0 ? shotsSvg('each metric against the number of shots', panels) : ''}</body></html>
`;
}

/** Several sweeps (one per bridge) by name. */
export type NamedSweeps = ReadonlyArray<{ readonly name: string; readonly doc: Pick<ShotsDocument, 'shots'> }>;

/** The metrics to compare: `only` when given (in that order), else every key any sweep reports. */
export function comparedMetrics(runs: NamedSweeps, only?: readonly string[]): string[] {
  return only && only.length > 0 ? [...only] : [...new Set(runs.flatMap((r) => shotsMetricKeys(r.doc)))];
}

/**
 * The comparison figure of scripts/fewshot-plot.mjs: a panel per metric, a line per sweep.
 *
 * @example
 * compareSvg('domain B', [{ name: 'idefics', doc }, { name: 'llava', doc: other }], ['caption.cider']);
 */
export function compareSvg(title: string, runs: NamedSweeps, only?: readonly string[]): string {
  const panels = comparedMetrics(runs, only).map((metric) => ({
    metric,
    series: runs.map((r) => ({ name: r.name, points: r.doc.shots.map((e) => [e.shots, e.metrics[metric] ?? Number.NaN] as const) })),
  }));
  return shotsSvg(title, panels);
}

/**
 * The markdown table of the comparison: a row per sweep, a column per metric and shots
 * (`caption.cider@2`), '-' where a sweep has no such score.
 */
export function compareMarkdown(runs: NamedSweeps, only?: readonly string[]): string[] {
  const metrics = comparedMetrics(runs, only);
  const shots = [...new Set(runs.flatMap((r) => r.doc.shots.map((e) => e.shots)))].sort((a, b) => a - b);
  const columns = metrics.flatMap((m) => shots.map((k) => [m, k] as const));
  const cell = (r: NamedSweeps[number], m: string, k: number) => {
    const v = r.doc.shots.find((e) => e.shots === k)?.metrics[m];
    return v === undefined || !Number.isFinite(v) ? '-' : fixed(v, 2);
  };
  return [
    `| bridge | ${columns.map(([m, k]) => `${m}@${k}`).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...runs.map((r) => `| ${r.name} | ${columns.map(([m, k]) => cell(r, m, k)).join(' | ')} |`),
  ];
}
