// Benchmark: images/s of the @mmft/image pipeline at 224 px (CLIP preprocessing: bicubic resize,
// centre crop, normalise to float32 NCHW), on the main thread, one worker, and a pool of
// os.cpus().length workers. Input: 256 px shapes PNGs written to a temp folder.
// Run: cd packages/benchmarks && npx tsc -b && node dist/image-pipeline.js [--n 512] [--batch 32] [--repeats 3]
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageRef } from '@mmft/core';
import { writeShapesDataset } from '@mmft/data-shapes';
import { ImagePipeline } from '@mmft/image';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function timePass(pipeline: ImagePipeline, refs: readonly ImageRef[]): Promise<number> {
  const start = process.hrtime.bigint();
  let images = 0;
  let checksum = 0;
  for await (const batch of pipeline.batches(refs)) {
    images += batch.shape[0];
    checksum += batch.pixelValues[0] ?? 0; // touch the data as a consumer would
  }
  if (!Number.isFinite(checksum) || images !== refs.length) throw new Error(`pipeline returned ${images} of ${refs.length} images`);
  return images / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main(): Promise<void> {
  const n = flag('n', 512);
  const batchSize = flag('batch', 32);
  const repeats = flag('repeats', 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-images-'));
  await writeShapesDataset(dir, { n, imageSize: 256, domain: 'B', tasks: [] });
  const refs: ImageRef[] = fs
    .readdirSync(path.join(dir, 'images'))
    .sort()
    .map((f) => ({ kind: 'file', path: path.join(dir, 'images', f) }));
  const cpus = os.cpus().length;
  const settings = [
    { name: 'main thread', workers: 0 },
    { name: '1 worker', workers: 1 },
    { name: `pool (${cpus} workers)`, workers: cpus },
  ];
  const results: { setting: string; workers: number; imagesPerSecond: number[]; best: number }[] = [];
  for (const s of settings) {
    const pipeline = new ImagePipeline({ batchSize, size: 224, workers: s.workers, prefetch: 2 });
    await timePass(pipeline, refs.slice(0, batchSize * 2)); // warm-up: start threads, load libvips
    const rates: number[] = [];
    for (let r = 0; r < repeats; r++) rates.push(await timePass(pipeline, refs));
    await pipeline.close();
    results.push({
      setting: s.name,
      workers: s.workers,
      imagesPerSecond: rates.map((x) => Math.round(x)),
      best: Math.round(Math.max(...rates)),
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `image pipeline, 256 px PNG → 224 px float32 NCHW, ${n} images, batch ${batchSize}, ${cpus} CPUs (${os.cpus()[0]?.model ?? '?'})`,
  );
  for (const r of results)
    console.log(`${r.setting.padEnd(20)} best ${String(r.best).padStart(6)} img/s   runs ${r.imagesPerSecond.join(', ')}`);
  console.log(JSON.stringify({ benchmark: 'image-pipeline', node: process.version, cpus, n, batchSize, results }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
