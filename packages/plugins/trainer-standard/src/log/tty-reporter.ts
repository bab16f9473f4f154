// A RunReporter for terminals: a cli-progress bar with ETA, samples/s and the latest values;
// info/warn lines are printed above the bar. The CLI picks it when stdout is a TTY and keeps its
// plain-line reporter otherwise (the trainer only talks to RunContext.reporter).
import { SingleBar } from 'cli-progress';
import type { RunReporter } from '@mmft/core';

/**
 * @example
 * const reporter = isTTY ? new TtyReporter(process.stderr) : lineReporter;
 */
export class TtyReporter implements RunReporter {
  private bar?: SingleBar;
  private startedAt = 0;
  private firstSamples = 0;

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
      this.bar = new SingleBar({ stream: this.stream, format: 'train [{bar}] {value}/{total} | ETA {eta_formatted} | {rate} samples/s | {values}', hideCursor: true, etaBuffer: 20 }, undefined);
      this.bar.start(total, step, { rate: '-', values: '' });
      [this.startedAt, this.firstSamples] = [Date.now(), samples];
    }
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? ((samples - this.firstSamples) / seconds).toFixed(1) : '-';
    const shown = Object.entries(values).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(' ');
    this.bar.setTotal(total);
    this.bar.update(step, { rate, values: shown });
    if (step >= total) this.stop();
  }

  /** Finish the bar (also called when the last step is reported). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
