// Speed of the data tools (docs/data.md) on a COCO-sized synthetic file: `validate` (full image
// decode), opening + one shuffled epoch of the JSONL dataset, and `split`. Deterministic input:
// 200,000 caption lines over 2,000 distinct 64×64 PNGs.
// Run: node packages/benchmarks/dist/data-jsonl.js [lines] [images]
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { openJsonlDataset, splitFile, validateFiles } from '@mmft/data-jsonl';

const LINES = Number(process.argv[2] ?? 200_000);
const IMAGES = Number(process.argv[3] ?? 2_000);

async function prepare(dir: string): Promise<string> {
  fs.mkdirSync(path.join(dir, 'images'));
  for (let i = 0; i < IMAGES; i += 1) {
    // Distinct colours so every image has its own content hash (splits and leakage key on it).
    const background = { r: i % 256, g: Math.floor(i / 256) % 256, b: 128 };
    await sharp({ create: { width: 64, height: 64, channels: 3, background } })
      .png()
      .toFile(path.join(dir, 'images', `${i}.png`));
  }
  const file = path.join(dir, 'train.jsonl');
  const fd = fs.openSync(file, 'w');
  for (let start = 0; start < LINES; start += 1000) {
    const rows = [];
    for (let k = start; k < Math.min(LINES, start + 1000); k += 1) {
      rows.push(
        JSON.stringify({ image: `images/${k % IMAGES}.png`, caption: `a photo of object ${k} on a plain background, seen from the side` }),
      );
    }
    fs.writeSync(fd, `${rows.join('\n')}\n`);
  }
  fs.closeSync(fd);
  return file;
}

async function timed<T>(
  label: string,
  count: number,
  unit: string,
  body: () => Promise<T>,
): Promise<{ label: string; seconds: number; rate: number }> {
  const start = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = count / seconds;
  console.log(`${label.padEnd(40)} ${seconds.toFixed(2).padStart(7)} s  ${rate.toFixed(0).padStart(9)} ${unit}/s`);
  return { label, seconds, rate };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-data-'));
  try {
    const file = await prepare(dir);
    const mb = fs.statSync(file).size / 1e6;
    console.log(
      `data-jsonl: ${LINES} lines (${mb.toFixed(1)} MB), ${IMAGES} distinct 64x64 PNGs, node ${process.version}, ${os.cpus().length} cpus`,
    );
    const results = [];
    results.push(
      await timed('validate (decode every image)', LINES, 'lines', async () => {
        const report = await validateFiles([file]);
        if (report.errors > 0) throw new Error(`unexpected errors: ${JSON.stringify(report.byCode)}`);
      }),
    );
    results.push(await timed('stats (image headers only)', LINES, 'lines', () => validateFiles([file], { imageMode: 'header' })));
    let seen = 0;
    results.push(
      await timed('open + one shuffled epoch', LINES, 'records', async () => {
        const data = await openJsonlDataset(file);
        for await (const _ of data.iterate({ shuffle: true, seed: 0, epoch: 0 })) seen += 1;
      }),
    );
    if (seen !== LINES) throw new Error(`iterated ${seen} of ${LINES}`);
    results.push(await timed('split 0.8/0.1/0.1 by image hash', LINES, 'lines', () => splitFile(file, { ratios: [0.8, 0.1, 0.1] })));
    console.log(JSON.stringify({ benchmark: 'data-jsonl', lines: LINES, images: IMAGES, megabytes: mb, results }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
