// Prints results as an aligned two-or-more-column table on the terminal.

/**
 * Format rows as a table with a header rule.
 *
 * @example
 * formatTable(['metric', 'score'], [['BLEU-4', '0.3120']]);
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** A number with fixed decimals, for tables. */
export const fixed = (value: number, digits: number): string => value.toFixed(digits);
