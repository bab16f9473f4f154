// What `mmft eval recipe --slice-by/--perturb` shows: on the terminal one table per slice field
// (metric × slice, small slices starred) and one of metric × perturbation with gap columns; and
// report.html, self-contained like the probe's page (probe/report.ts: its barChart), with the same
// tables and bar plots of the first metric per slice and of its gap per perturbation.
import { barChart } from '../probe/report';
import { MIN_SLICE_SIZE } from './slices';
import type { PassResult, RobustnessResult } from './robustness';
import { fixed, formatTable } from './table';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const show = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : fixed(v, 4));
const signed = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${v >= 0 ? '+' : ''}${fixed(v, 4)}`);

/** The score names in the order the clean pass reports them. */
const metricKeys = (r: RobustnessResult): string[] => Object.keys(r.clean.scores);

type Table = { title: string; header: string[]; rows: string[][] };

/** One table per slice field: rows are metrics, columns overall then each slice ("en n=12", "*" when under MIN_SLICE_SIZE). */
export function sliceTables(r: RobustnessResult, pass: PassResult = r.clean): Table[] {
  return r.sliceBy.map((field) => {
    const slices = pass.slices[field] ?? [];
    const header = [`${field} (${pass.name})`, `overall n=${pass.n}`, ...slices.map((s) => `${s.value} n=${s.n}${s.small ? '*' : ''}`)];
    const rows = metricKeys(r).map((k) => [k, show(pass.scores[k]), ...slices.map((s) => show(s.scores[k]))]);
    return { title: `metrics by ${field}`, header, rows };
  });
}

/** Rows are metrics: clean, then each perturbation's score and its gap to clean. */
export function perturbationTable(r: RobustnessResult): Table {
  const header = ['metric', 'clean', ...r.perturbations.flatMap((p) => [p.name, 'Δ'])];
  const rows = metricKeys(r).map((k) => [
    k,
    show(r.clean.scores[k]),
    ...r.perturbations.flatMap((p) => [show(p.scores[k]), signed(p.gap?.[k])]),
  ]);
  return { title: 'metrics under perturbations (Δ = perturbed − clean)', header, rows };
}

function notes(r: RobustnessResult): string[] {
  const out: string[] = [];
  if (r.sliceBy.some((f) => r.clean.slices[f]?.some((s) => s.small)))
    out.push(`* fewer than ${MIN_SLICE_SIZE} examples in the slice: its scores move a lot with one record`);
  for (const p of r.perturbations) {
    if (!p.unchanged) continue;
    const why = p.name === 'paraphrase' ? 'no paraphrase rule applies' : 'no image';
    out.push(`${p.name}: ${p.unchanged} of ${p.n} examples unchanged (${why})`);
    if (p.changedOnly) {
      const k = metricKeys(r)[0];
      if (k)
        out.push(
          `${p.name} on the ${p.changedOnly.n} changed examples only: ${k} ${show(p.changedOnly.clean[k])} clean → ${show(p.changedOnly.scores[k])}`,
        );
    }
  }
  if (r.unsliced.length > 0) out.push(`not sliced (one similarity matrix for all examples): ${r.unsliced.join(', ')}`);
  return out;
}

/** The tables and notes as printed. */
export function robustnessLines(r: RobustnessResult): string[] {
  const lines: string[] = [];
  const tables = [...sliceTables(r), ...(r.perturbations.length > 0 ? [perturbationTable(r)] : [])];
  for (const t of tables) lines.push(...formatTable(t.header, t.rows), '');
  lines.push(...notes(r));
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

const htmlTable = (t: Table) =>
  `<h2>${escape(t.title)}</h2><table><tr>${t.header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>${t.rows
    .map((row) => `<tr>${row.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;

/** report.html for `r` (title: what was evaluated). */
export function robustnessHtml(title: string, r: RobustnessResult): string {
  const first = metricKeys(r)[0];
  const charts = first
    ? [
        ...r.sliceBy.map((f) =>
          barChart(
            `${first} by ${f} (overall ${show(r.clean.scores[first])})`,
            (r.clean.slices[f] ?? []).map((s) => [`${s.value} (n=${s.n}${s.small ? '*' : ''})`, s.scores[first] ?? Number.NaN] as const),
            (v) => fixed(v, 4),
          ),
        ),
        r.perturbations.length > 0
          ? barChart(
              `gap of ${first} to clean under each perturbation`,
              r.perturbations.map((p) => [p.name, p.gap?.[first] ?? Number.NaN] as const),
              (v) => signed(v),
            )
          : '',
      ]
    : [];
  const tables = [...sliceTables(r), ...(r.perturbations.length > 0 ? [perturbationTable(r)] : [])];
  // The gap of every slice under each perturbation, so a slice that suffers more than the rest shows.
  const sliceGaps = r.perturbations.flatMap((p) =>
    r.sliceBy.map((f): Table => ({
      title: `gap by ${f} under ${p.name}`,
      header: ['metric', ...(p.slices[f] ?? []).map((s) => `${s.value} n=${s.n}${s.small ? '*' : ''}`)],
      rows: metricKeys(r).map((k) => [k, ...(p.slices[f] ?? []).map((s) => signed(s.gap?.[k]))]),
    })),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}svg text{font-size:12px}</style></head>
<body><h1>${escape(title)}</h1><p>${r.examples} examples; slices by ${escape(r.sliceBy.join(', ') || '(none)')}; perturbations ${escape(r.perturbations.map((p) => p.name).join(', ') || '(none)')} (seed ${r.seed}).</p>
${tables.map(htmlTable).join('\n')}
${charts.filter(Boolean).join('\n')}
${sliceGaps.map(htmlTable).join('\n')}
${notes(r)
  .map((n) => `<p>${escape(n)}</p>`)
  .join('')}</body></html>
`;
}
