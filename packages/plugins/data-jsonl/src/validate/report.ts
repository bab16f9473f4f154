// Plain-text rendering of a validation report and of data statistics: aligned tables that read
// the same in a terminal and in a CI log (no colours, no box drawing).
import { MESSAGES, type MessageCode } from './messages';
import type { DataStats, Spread } from './stats';
import type { ValidationReport } from './validate';

/** Left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
}

const spread = (s?: Spread) => (s ? `${s.min}/${s.p50}/${s.p95}/${s.max}` : '-');

/**
 * The summary printed after the issues of `mmft data validate`.
 *
 * @example
 * for (const line of formatReport(report)) console.log(line);
 */
export function formatReport(report: ValidationReport): string[] {
  const lines = ['', 'summary', ...statsTable(report.files), ...imagesPerRecordLines(report.files)];
  const codes = Object.entries(report.byCode) as [MessageCode, number][];
  if (codes.length > 0) {
    lines.push(
      '',
      ...table([
        ['code', 'severity', 'count', 'meaning'],
        ...codes.map(([code, n]) => [code, MESSAGES[code].severity, String(n), MESSAGES[code].summary]),
      ]),
    );
  }
  if (report.omittedIssues > 0) lines.push('', `${report.omittedIssues} more issues were counted but not listed (raise --max-issues)`);
  const privacy = report.privacy;
  if (privacy && (privacy.lines > 0 || privacy.images > 0)) {
    const kinds = Object.entries(privacy.spans).map(([kind, n]) => `${kind} ${n}`);
    lines.push(
      '',
      `personal data: ${privacy.lines} line(s) with ${kinds.length > 0 ? kinds.join(', ') : 'none in texts'}; ${privacy.images} image(s) with GPS or serial-number metadata` +
        (report.fix?.redacted ? '' : ' (write a redacted copy with --fix OUT --redact-pii)'),
    );
  }
  if (report.fix) {
    lines.push('', `--fix: kept ${report.fix.kept} line(s) in ${report.fix.out}; dropped ${report.fix.dropped} to ${report.fix.rejects}`);
    const r = report.fix.redacted;
    if (r) {
      lines.push(
        `--redact-pii: redacted ${r.lines} line(s), ${r.imageCopies} image(s) copied without metadata to ${r.images}; changes in ${r.changes}`,
      );
    }
    lines.push(`manifest: ${report.fix.manifest}`);
  }
  const verdict = report.errors > 0 ? 'FAILED' : 'OK';
  lines.push(
    '',
    `${verdict}: ${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`,
  );
  return lines;
}

/** One row per file: counts, text lengths and image sizes (min/p50/p95/max). */
export function statsTable(files: readonly DataStats[]): string[] {
  const header = ['file', 'task', 'lines', 'records', 'rejected', 'texts', 'chars min/p50/p95/max', 'images', 'width', 'height'];
  return table([
    header,
    ...files.map((s) => [
      s.file,
      s.task ?? '?',
      String(s.lines),
      String(s.records),
      String(s.rejected),
      String(s.texts.count),
      spread(s.texts.chars),
      String(s.images.distinct),
      spread(s.images.width),
      spread(s.images.height),
    ]),
  ]);
}

/** A line per file whose records hold several images (interleaved documents, multi-image conversations). */
function imagesPerRecordLines(files: readonly DataStats[]): string[] {
  return files.flatMap((s) => (s.imagesPerRecord ? [`${s.file}: images per record min/p50/p95/max ${spread(s.imagesPerRecord)}`] : []));
}

/** `mmft data stats` output: the table plus images per record, formats and the top VQA answers. */
export function formatStats(files: readonly DataStats[]): string[] {
  const lines = [...statsTable(files), ...imagesPerRecordLines(files)];
  for (const s of files) {
    const formats = Object.entries(s.images.formats)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ');
    if (formats) lines.push('', `${s.file}: image formats: ${formats}`);
    if (s.answers) {
      lines.push(`${s.file}: ${s.answers.distinct} distinct answers; top: ${s.answers.top.map(([a, n]) => `"${a}" ${n}`).join(', ')}`);
    }
  }
  return lines;
}
