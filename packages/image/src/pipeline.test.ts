import { afterAll, describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import type { ImageRef } from '@mmft/core';
import { isMmftError } from '@mmft/core';
import { ImagePipeline } from './pipeline';
import { preprocess } from './preprocess';

/** Images of different sizes, so workers finish out of order. */
async function refs(count: number): Promise<ImageRef[]> {
  const out: ImageRef[] = [];
  for (let i = 0; i < count; i++) {
    const side = i % 3 === 0 ? 400 : 24;
    const bytes = await sharp({
      create: { width: side, height: side + i, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 13) % 256 } },
    })
      .png()
      .toBuffer();
    out.push({ kind: 'bytes', bytes: new Uint8Array(bytes), format: 'png', key: `img-${i}` });
  }
  return out;
}

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const pipelines: ImagePipeline[] = [];
const make = (options: ConstructorParameters<typeof ImagePipeline>[0]): ImagePipeline => {
  const p = new ImagePipeline(options);
  pipelines.push(p);
  return p;
};
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
});

describe('ImagePipeline', () => {
  test('feeds NCHW batches in source order to a consumer, equal to one-by-one preprocessing', async () => {
    const images = await refs(10);
    const pipeline = make({ batchSize: 4, size: 16, workers: 2, prefetch: 1 });
    const seen: string[] = [];
    const shapes: number[][] = [];
    let checked = 0;
    for await (const batch of pipeline.batches(stream(images.map((image, i) => ({ id: `ex-${i}`, image }))), (ex) => ex.image)) {
      shapes.push([...batch.shape]);
      seen.push(...batch.items.map((ex) => ex.id));
      for (const [slot, ex] of batch.items.entries()) {
        const expected = (await preprocess(ex.image, { size: 16 })).data;
        expect(batch.pixelValues.subarray(slot * expected.length, (slot + 1) * expected.length)).toEqual(expected);
        checked++;
      }
    }
    expect(shapes).toEqual([
      [4, 3, 16, 16],
      [4, 3, 16, 16],
      [2, 3, 16, 16],
    ]);
    expect(seen).toEqual(images.map((_, i) => `ex-${i}`));
    expect(checked).toBe(10);
  });

  test('dropLast, main-thread mode, and seeded augmentation independent of worker count', async () => {
    const images = await refs(7);
    const augment = { randomResizedCrop: { scale: [0.2, 1] as [number, number] }, colorJitter: { brightness: 0.5, saturation: 0.5 } };
    const collect = async (p: ImagePipeline): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for await (const batch of p.batches(images)) out.push(batch.pixelValues);
      return out;
    };
    const pooled = await collect(make({ batchSize: 3, size: 12, workers: 2, dropLast: true, augment, seed: 11 }));
    const inline = await collect(make({ batchSize: 3, size: 12, workers: 0, dropLast: true, augment, seed: 11 }));
    const otherSeed = await collect(make({ batchSize: 3, size: 12, workers: 0, dropLast: true, augment, seed: 12 }));
    expect(pooled.length).toBe(2);
    expect(pooled).toEqual(inline);
    expect(otherSeed).not.toEqual(inline);
  });

  test('a broken image fails the batch with the image named and the code kept', async () => {
    const images = await refs(2);
    const broken: ImageRef = { kind: 'bytes', bytes: new Uint8Array([0, 1, 2, 3]), format: 'jpeg', key: 'broken.jpg' };
    const pipeline = make({ batchSize: 2, size: 8, workers: 1 });
    const error = await (async () => {
      for await (const _ of pipeline.batches([images[0] as ImageRef, broken, images[1] as ImageRef])) void _;
    })().catch((e: unknown) => e);
    expect(isMmftError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('E_INPUT');
    expect((error as Error).message).toContain('broken.jpg');
  });

  test('rejects a bad batch size', () => {
    expect(() => new ImagePipeline({ batchSize: 0, workers: 0 })).toThrow('batchSize must be a positive integer, got 0');
  });
});
