// A TensorBoard event file writer: each event is framed and appended at once, so a run that
// crashes keeps every point it logged. Names and the first record follow
// tensorboard/summary/writer/event_file_writer.py (file_version "brain.Event:2") and the
// `events.out.tfevents.<seconds>.<host>.<pid>.<counter>` names torch.utils.tensorboard gives.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { encodeEvent, imageValue, scalarValue, textValue, type SummaryValue } from './event-proto';
import { frameRecord } from './tfrecord';

let counter = 0;

/**
 * Appends events to a fresh `events.out.tfevents.*` file in `dir` (created if missing). A second
 * writer in the same folder (a resumed run) opens its own file, as HF's callback does.
 *
 * @example
 * const w = EventFileWriter.open('runs/a/tensorboard');
 * w.scalars(1, { 'train/loss': 2.3 }); w.close();
 */
export class EventFileWriter {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
    private readonly now: () => number,
  ) {
    this.fd = fd;
  }

  static open(dir: string, options: { now?: () => number } = {}): EventFileWriter {
    const now = options.now ?? (() => Date.now() / 1000);
    const name = `events.out.tfevents.${Math.floor(now())}.${os.hostname()}.${process.pid}.${counter++}`;
    const file = path.join(dir, name);
    let fd: number;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fd = fs.openSync(file, 'a');
    } catch (cause) {
      throw new MmftError('E_IO', `cannot create the TensorBoard event file ${file}: ${(cause as Error).message}`, {
        cause,
        hint: 'check that the output folder is writable, or turn tracking off with train.report_to: []',
      });
    }
    const writer = new EventFileWriter(file, fd, now);
    writer.append({ wall_time: now(), step: 0, file_version: 'brain.Event:2' });
    return writer;
  }

  /** Numbers as `simple_value` scalars; non-finite values are written too (TensorBoard shows NaN). */
  scalars(step: number, values: Readonly<Record<string, number>>): void {
    const list = Object.entries(values).map(([tag, v]) => scalarValue(tag, v));
    if (list.length > 0) this.summary(step, list);
  }

  text(step: number, tag: string, markdown: string): void {
    this.summary(step, [textValue(tag, markdown)]);
  }

  image(step: number, tag: string, png: Uint8Array, size: { width: number; height: number }): void {
    this.summary(step, [imageValue(tag, png, size)]);
  }

  summary(step: number, value: readonly SummaryValue[]): void {
    this.append({ wall_time: this.now(), step, summary: { value } });
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private append(event: Parameters<typeof encodeEvent>[0]): void {
    if (this.fd === undefined) throw new MmftError('E_IO', `${this.file} is closed: no more events can be written to it`);
    // appendFile per record: the OS has it even if the process dies right after.
    fs.writeSync(this.fd, frameRecord(encodeEvent(event)));
  }
}
