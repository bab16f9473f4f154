// A RunReporter for terminals: a cli-progress bar with ETA, samples/s and the latest values;
// info/warn lines are printed above the bar. The CLI picks it when stdout is a TTY and keeps its
// plain-line reporter otherwise (the trainer only talks to RunContext.reporter).
import { SingleBar } from 'cli-progress';
import type { RunReporter } from '@mmft/core';

/** 75 → "1m15s", 3700 → "1h01m". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * @example
 * const reporter = isTTY ? new TtyReporter(process.stderr) : lineReporter;
 */
export class TtyReporter implements RunReporter {
  private bar?: SingleBar;
  private startedAt = 0;
  private firstSamples = 0;
  private firstStep = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  private print(line: string): void {
    // Clear the bar's line, print, and let the next update redraw the bar.
    if (this.bar) this.stream.write('\r\x1b[2K');
    this.stream.write(`${line}\n`);
  }

  info(message: string): void {
    this.print(message);
  }

  warn(message: string): void {
    this.print(`warning: ${message}`);
  }

  progress({ step, total, samples, values }: Parameters<RunReporter['progress']>[0]): void {
    if (!this.bar) {
      // ETA and rate are measured from the first report on (cli-progress's own ETA would divide by
      // zero progress when the bar starts at a step > 0, e.g. on resume or with log_every > 1).
      this.bar = new SingleBar(
        { stream: this.stream, format: 'train [{bar}] {value}/{total} | ETA {left} | {rate} samples/s | {values}', hideCursor: true },
        undefined,
      );
      this.bar.start(total, step, { rate: '-', left: '-', values: '' });
      [this.startedAt, this.firstSamples, this.firstStep] = [Date.now(), samples, step];
    }
    const seconds = (Date.now() - this.startedAt) / 1000;
    const done = step - this.firstStep;
    const rate = seconds > 0 && done > 0 ? ((samples - this.firstSamples) / seconds).toFixed(1) : '-';
    const eta = seconds > 0 && done > 0 ? formatSeconds(((total - step) * seconds) / done) : '-';
    const shown = Object.entries(values)
      .map(([k, v]) => `${k} ${v.toPrecision(4)}`)
      .join(' ');
    this.bar.setTotal(total);
    this.bar.update(step, { rate, left: eta, values: shown });
    if (step >= total) this.stop();
  }

  /** Finish the bar (also called when the last step is reported). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
