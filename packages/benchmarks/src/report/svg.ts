// A small dependency-free SVG bar chart (grouped horizontal bars, one colour per series) for the
// generated reports; GitHub renders it inline from the markdown.

/** One bar group: a label and one value per series (undefined: no bar). */
export interface BarGroup {
  readonly label: string;
  readonly values: readonly (number | undefined)[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOURS = ['#2f6fb0', '#e07b39', '#5aa469', '#9b59b6'];

/**
 * Render grouped horizontal bars with values printed at the bar ends.
 *
 * @example
 * barChart('samples/s', ['mmft', 'torch'], [{ label: 'full', values: [21, 17] }]);
 */
export function barChart(title: string, series: readonly string[], groups: readonly BarGroup[]): string {
  const labelWidth = 300;
  const plotWidth = 420;
  const bar = 14;
  const groupHeight = series.length * bar + 10;
  const top = 46;
  const height = top + groups.length * groupHeight + 10;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined && Number.isFinite(v))));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 90}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`,
    ...series.map(
      (s, i) =>
        `<rect x="${labelWidth + i * 110}" y="28" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/><text x="${labelWidth + i * 110 + 14}" y="37">${escape(s)}</text>`,
    ),
  ];
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + (series.length * bar) / 2 + 4}" text-anchor="end">${escape(g.label)}</text>`);
    g.values.forEach((v, si) => {
      if (v === undefined || !Number.isFinite(v)) return;
      const w = Math.max(1, (v / max) * plotWidth);
      const y = y0 + si * bar;
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${COLOURS[si % COLOURS.length]}"/>`);
      parts.push(`<text x="${(labelWidth + w + 4).toFixed(1)}" y="${y + bar - 4}">${v >= 100 ? Math.round(v) : v.toPrecision(3)}</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
