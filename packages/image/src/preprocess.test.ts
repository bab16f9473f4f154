import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { isMmftError } from '@mmft/core';
import { OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from './constants';
import { decodeImage } from './decode';
import { preprocess } from './preprocess';

/** A PNG whose left half is pure red and right half pure blue. */
async function redBlue(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width / 2}" height="${height}" fill="#ff0000"/><rect x="${width / 2}" width="${width / 2}" height="${height}" fill="#0000ff"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const norm = (value: number, c: 0 | 1 | 2): number => (value - OPENAI_CLIP_MEAN[c]) / OPENAI_CLIP_STD[c];
const at = (data: Float32Array, side: number, c: number, y: number, x: number): number => data[c * side * side + y * side + x] as number;

describe('preprocess', () => {
  test('resizes the shortest edge, centre-crops and normalises with CLIP mean/std into CHW', async () => {
    const { data, shape } = await preprocess(await redBlue(64, 32), { size: 16 });
    expect(shape).toEqual([3, 16, 16]);
    expect(data.length).toBe(3 * 16 * 16);
    // 64×32 → 32×16, centre crop keeps columns 8..23: left edge red, right edge blue
    expect(at(data, 16, 0, 8, 0)).toBeCloseTo(norm(1, 0), 4);
    expect(at(data, 16, 2, 8, 0)).toBeCloseTo(norm(0, 2), 4);
    expect(at(data, 16, 0, 8, 15)).toBeCloseTo(norm(0, 0), 4);
    expect(at(data, 16, 2, 8, 15)).toBeCloseTo(norm(1, 2), 4);
  });

  test('cropSize smaller than size, custom mean/std', async () => {
    const { data, shape } = await preprocess(await redBlue(32, 32), { size: 32, cropSize: 8, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(shape).toEqual([3, 8, 8]);
    expect(Math.min(...data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...data)).toBeLessThanOrEqual(1);
  });

  test('a flip with probability 1 swaps left and right; augmentation is seeded', async () => {
    const png = await redBlue(32, 32);
    const flipped = await preprocess(png, { size: 16, augment: { horizontalFlip: 1 }, seed: 1 });
    expect(at(flipped.data, 16, 2, 8, 0)).toBeCloseTo(norm(1, 2), 4);
    const opts = {
      size: 16,
      augment: { randomResizedCrop: { scale: [0.3, 1] as [number, number] }, colorJitter: { brightness: 0.4, hue: 0.1 } },
    };
    const a = await preprocess(png, { ...opts, seed: 5 });
    const b = await preprocess(png, { ...opts, seed: 5 });
    const c = await preprocess(png, { ...opts, seed: 6 });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
  });

  test('transparent pixels become white and grey images become RGB', async () => {
    const clear = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const decoded = await decodeImage(clear);
    expect(decoded.data.length).toBe(8 * 8 * 3);
    expect([...decoded.data.subarray(0, 3)]).toEqual([255, 255, 255]);
    const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .greyscale()
      .jpeg()
      .toBuffer();
    const { shape } = await preprocess(grey, { size: 8 });
    expect(shape).toEqual([3, 8, 8]);
  });

  test('undecodable bytes and missing files fail with the image named', async () => {
    const bad = { kind: 'bytes', bytes: new Uint8Array([1, 2, 3]), format: 'png', key: 'images/000001.png' } as const;
    const error = await preprocess(bad).catch((e: unknown) => e);
    expect(isMmftError(error)).toBe(true);
    expect((error as Error).message).toContain('cannot decode image images/000001.png');
    await expect(preprocess('/nonexistent/x.png')).rejects.toThrow('image file not found: /nonexistent/x.png');
  });

  test('bad options are refused by the schema', async () => {
    await expect(preprocess(await redBlue(8, 8), { size: 8, cropSize: 16 })).rejects.toThrow('cropSize must be <= size');
  });
});
