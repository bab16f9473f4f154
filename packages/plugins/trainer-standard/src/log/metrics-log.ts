// metrics.jsonl: one JSON object per optimizer step or evaluation, appended as the run goes, so
// a crashed run still leaves its curve (HF Trainer keeps the same entries in log_history).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { LogEntry } from '../checkpoint/trainer-state';
import { ioError } from '../loop/output-dir';

export const METRICS_FILE = 'metrics.jsonl';

/**
 * Appends entries to <output>/metrics.jsonl; a resumed run first truncates it to the checkpoint's
 * history so the file never holds steps the resumed run will redo.
 *
 * @example
 * const log = await MetricsLog.open(outputDir, state?.logHistory ?? []);
 * await log.append({ step: 1, loss: 2.3 });
 */
export class MetricsLog {
  private constructor(readonly file: string) {}

  static async open(outputDir: string, history: readonly LogEntry[]): Promise<MetricsLog> {
    const file = path.join(outputDir, METRICS_FILE);
    await fs
      .writeFile(file, history.map((e) => `${JSON.stringify(e)}\n`).join(''))
      .catch((error: unknown) => Promise.reject(ioError('write', file, error)));
    return new MetricsLog(file);
  }

  async append(entry: LogEntry): Promise<void> {
    await fs
      .appendFile(this.file, `${JSON.stringify(entry)}\n`)
      .catch((error: unknown) => Promise.reject(ioError('write', this.file, error)));
  }
}
