// Plain-text tables for terminal output: columns padded to the widest cell, CJK characters
// counted as two columns so Chinese text lines up.

/** Display width of a string (East Asian wide characters count 2). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text)
    width += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(char) ? 2 : 1;
  return width;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'left' ? text + fill : fill + text;
}

/**
 * Render rows as an aligned table; numbers are right-aligned.
 *
 * @example
 * formatTable([{ metric: 'R@1', value: '42.0' }], ['metric', 'value']);
 */
export function formatTable(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, columns: readonly string[]): string {
  const cells = rows.map((row) => columns.map((column) => (row[column] === undefined ? '' : String(row[column]))));
  const widths = columns.map((column, i) => Math.max(displayWidth(column), ...cells.map((r) => displayWidth(r[i]!))));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === '' || /^-?[\d.,]+%?$/.test(r[i]!)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => pad(v, widths[i]!, numeric[i] ? 'right' : 'left'))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
