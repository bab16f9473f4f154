// The validator streams: live heap while validating a 100,000-line (~75 MB) file must stay under
// LIVE_HEAP_BOUND (documented in docs/data.md), well below the file's own size. Live heap is
// sampled after a forced GC so the bound measures what is kept, not garbage awaiting collection.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect, test } from '@jest/globals';
import { dataDir } from '../testing/fixtures';
import { validateFiles } from './validate';

const LINES = 100_000;
const LIVE_HEAP_BOUND = 32 * 1024 * 1024;

test(`a ${LINES}-line file is validated with live heap growth under 32 MiB`, async () => {
  const dir = dataDir();
  const file = path.join(dir, 'big.jsonl');
  const fd = fs.openSync(file, 'w');
  const pad = 'x'.repeat(700);
  const images = ['red', 'green', 'blue'];
  for (let start = 0; start < LINES; start += 1000) {
    const chunk = Array.from({ length: 1000 }, (_, k) =>
      JSON.stringify({ image: `images/${images[(start + k) % 3]}.png`, caption: `caption ${start + k} ${pad}` }),
    );
    fs.writeSync(fd, `${chunk.join('\n')}\n`);
  }
  fs.closeSync(fd);
  const fileBytes = fs.statSync(file).size;

  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const base = process.memoryUsage().heapUsed;
  // Growth can be negative (the collector may shrink below the baseline): keep the signed maximum
  // and count samples, so the test proves it measured something on fast and slow machines alike.
  let peak = Number.NEGATIVE_INFINITY;
  let samples = 0;
  const measure = () => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    samples += 1;
  };
  const sample = setInterval(measure, 50);
  try {
    const report = await validateFiles([file]);
    expect(report.files[0]).toMatchObject({ lines: LINES, records: LINES, rejected: 0 });
    measure(); // at least one sample, taken while the report is still alive
  } finally {
    clearInterval(sample);
  }
  expect(fileBytes).toBeGreaterThan(2 * LIVE_HEAP_BOUND);
  expect(samples).toBeGreaterThan(0);
  expect(peak).toBeLessThan(LIVE_HEAP_BOUND);
});
