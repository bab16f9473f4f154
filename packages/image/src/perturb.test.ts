// The perturbations checked by formula on tiny images: the blur of a delta is the outer product
// of the 1-D kernel (whose weights are recomputed here), a constant image is unchanged by blur,
// reflect padding mirrors without repeating the edge; noise has the asked mean and std and is
// seeded; the crop box and the bilinear resize reproduce a linear ramp exactly.
import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { decodeImage } from './decode';
import { applyPerturbation, centreCropBox, centreCropResize, gaussianBlur, gaussianKernel1d, gaussianNoise, perturbImage } from './perturb';

/** A w×h RGB image whose channel c at (x, y) is f(x, y, c). */
const image = (w: number, h: number, f: (x: number, y: number, c: number) => number) => {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h };
};

describe('gaussian blur', () => {
  test('the kernel: size 2·ceil(3σ)+1, weights ∝ exp(−x²/2σ²), sum 1', () => {
    const k = gaussianKernel1d(1);
    expect(k.length).toBe(7);
    const raw = [-3, -2, -1, 0, 1, 2, 3].map((x) => Math.exp(-(x * x) / 2));
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, i) => expect(k[i]).toBeCloseTo(v / sum, 12));
    expect(gaussianKernel1d(0.5).length).toBe(5);
    expect(() => gaussianKernel1d(0)).toThrow(/positive/);
  });

  test('a delta far from the edges blurs into the outer product of the kernel', () => {
    const sigma = 1;
    const k = gaussianKernel1d(sigma);
    const out = gaussianBlur(
      image(11, 11, (x, y, c) => (x === 5 && y === 5 && c === 1 ? 255 : 0)),
      sigma,
    );
    for (let y = 0; y < 11; y++)
      for (let x = 0; x < 11; x++) {
        const expected = Math.abs(x - 5) <= 3 && Math.abs(y - 5) <= 3 ? 255 * k[x - 5 + 3]! * k[y - 5 + 3]! : 0;
        expect(out[(y * 11 + x) * 3 + 1]).toBeCloseTo(expected, 3);
        expect(out[(y * 11 + x) * 3]).toBe(0);
      }
  });

  test('a constant image stays constant; at the border the padding mirrors without repeating the edge', () => {
    const flat = gaussianBlur(
      image(5, 4, () => 77),
      2,
    );
    for (const v of flat) expect(v).toBeCloseTo(77, 4);
    // A 1-row image with a delta at x = 0: mirrored copies of x = 0 would appear only if the edge were repeated.
    const k = gaussianKernel1d(0.5); // radius 2
    const row = gaussianBlur(
      image(4, 1, (x) => (x === 0 ? 255 : 0)),
      0.5,
    );
    // vertical pass on one row: every tap reflects to row 0, weights sum to 1
    expect(row[0]).toBeCloseTo(255 * k[2]!, 4);
    expect(row[3]).toBeCloseTo(255 * k[2 + 1]!, 4); // x = 1 sees the delta at offset −1
    expect(row[6]).toBeCloseTo(255 * k[2 + 2]!, 4); // x = 2 sees it at offset −2
    expect(row[9]).toBeCloseTo(0, 4); // x = 3 is 3 pixels away, outside radius 2
  });
});

describe('gaussian noise', () => {
  test('mean and std of the added noise match the asked std (in 0–1 units), and the draws are seeded', () => {
    const grey = image(64, 64, () => 128);
    const out = gaussianNoise(grey, 0.05, 3);
    const n = out.length;
    const mean = out.reduce((s, v) => s + v, 0) / n;
    const std = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    // 12288 draws: the standard error of the mean is 12.75/√12288 ≈ 0.115
    expect(Math.abs(mean - 128)).toBeLessThan(0.5);
    expect(Math.abs(std - 0.05 * 255)).toBeLessThan(0.3);
    expect(gaussianNoise(grey, 0.05, 3)).toEqual(out);
    expect(gaussianNoise(grey, 0.05, 4)).not.toEqual(out);
  });

  test('values are clipped to 0–255', () => {
    const out = gaussianNoise(
      image(16, 16, (x) => (x < 8 ? 0 : 255)),
      0.5,
      1,
    );
    expect(Math.min(...out)).toBe(0);
    expect(Math.max(...out)).toBe(255);
  });
});

describe('centre crop + resize', () => {
  test('the box keeps the asked fraction of each side, centred with floored offsets', () => {
    expect(centreCropBox(10, 8, 0.5)).toEqual({ left: 2, top: 2, width: 5, height: 4 });
    expect(centreCropBox(7, 7, 0.8)).toEqual({ left: 0, top: 0, width: 6, height: 6 });
    expect(centreCropBox(5, 5, 1)).toEqual({ left: 0, top: 0, width: 5, height: 5 });
    expect(() => centreCropBox(5, 5, 0)).toThrow(/\(0, 1\]/);
  });

  test('fraction 1 is the identity; a linear ramp stays a ramp of the crop (bilinear, half-pixel centres)', () => {
    const ramp = image(8, 8, (x, y, c) => 10 * x + 3 * y + c);
    const same = centreCropResize(ramp, 1).data;
    same.forEach((v, i) => expect(v).toBeCloseTo(ramp.data[i]!, 5));
    const { data, box } = centreCropResize(ramp, 0.5);
    expect(box).toEqual({ left: 2, top: 2, width: 4, height: 4 });
    // output x maps to crop coordinate (x + 0.5)/2 − 0.5, clamped to [0, 3]; the ramp is linear in it
    const at = (x: number) => 2 + Math.min(3, Math.max(0, (x + 0.5) / 2 - 0.5));
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect(data[(y * 8 + x) * 3 + 2]).toBeCloseTo(10 * at(x) + 3 * at(y) + 2, 4);
  });
});

describe('perturbImage', () => {
  test('decodes, perturbs and re-encodes losslessly: the PNG holds exactly applyPerturbation of the pixels', async () => {
    const pixels = image(6, 6, (x, y, c) => (x * 40 + y * 7 + c * 50) % 256);
    const bytes = Uint8Array.from(pixels.data);
    const png = await sharp(bytes, { raw: { width: 6, height: 6, channels: 3 } })
      .png()
      .toBuffer();
    const p = { kind: 'crop', fraction: 0.5 } as const;
    const ref = await perturbImage(new Uint8Array(png), p, 0);
    expect(ref.format).toBe('png');
    expect(ref.key).toMatch(/#crop:0\.5@0$/);
    const back = await decodeImage(ref.bytes);
    expect(back.width).toBe(6);
    expect(Array.from(back.data)).toEqual(Array.from(applyPerturbation({ data: bytes, width: 6, height: 6 }, p, 0)));
  });
});
