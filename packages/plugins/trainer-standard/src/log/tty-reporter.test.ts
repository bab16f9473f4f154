import { describe, expect, test } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { formatSeconds, TtyReporter } from './tty-reporter';

describe('TtyReporter', () => {
  test('formats ETA like a person reads it', () => {
    expect([formatSeconds(0), formatSeconds(59.6), formatSeconds(75), formatSeconds(3700)]).toEqual(['0s', '1m00s', '1m15s', '1h01m']);
  });

  test('the first report shows no ETA/rate, later ones do; info lines print above the bar', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    (stream as unknown as { isTTY: boolean }).isTTY = true;
    (stream as unknown as { columns: number }).columns = 200;
    const reporter = new TtyReporter(stream);
    try {
      reporter.progress({ step: 4, total: 12, samples: 128, values: { loss: 4.5 } });
      expect(text).toContain('4/12 | ETA - | - samples/s');
      reporter.info('eval at step 4');
      expect(text).toContain('eval at step 4\n');
    } finally {
      reporter.stop();
    }
    expect(text).toContain('loss 4.500');
    expect(text).not.toContain('NaN');
    expect(text).not.toContain('NF');
  });
});
