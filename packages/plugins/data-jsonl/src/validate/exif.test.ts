import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { readExifPrivacy, xmpHasGps } from './exif';

type Field = { tag: number; type: number; count: number; value: number[] | string };

/**
 * A TIFF block built by hand from the TIFF 6.0 layout (header, IFDs of 12-byte entries, values
 * longer than 4 bytes after the IFD), independent of the reader under test.
 */
function tiff(littleEndian: boolean, ifds: Field[][], links: { from: number; tag: number; to: number }[]): Uint8Array {
  const put = (out: number[], n: number, size: number) => {
    for (let i = 0; i < size; i++) out.push(littleEndian ? (n >>> (8 * i)) & 255 : (n >>> (8 * (size - 1 - i))) & 255);
  };
  const raw = (f: Field): number[] => {
    if (typeof f.value === 'string') return [...Buffer.from(f.value + '\0', 'latin1')];
    const out: number[] = [];
    if (f.type === 1) out.push(...f.value);
    else f.value.forEach((v) => put(out, v, f.type === 3 ? 2 : 4));
    return out;
  };
  // Each IFD is followed by its values longer than 4 bytes; pointers are filled from the layout.
  const starts: number[] = [];
  let at = 8;
  for (const ifd of ifds) {
    starts.push(at);
    at += 2 + 12 * ifd.length + 4 + ifd.reduce((s, f) => s + (raw(f).length > 4 ? raw(f).length : 0), 0);
  }
  const bytes: number[] = littleEndian ? [0x49, 0x49] : [0x4d, 0x4d];
  put(bytes, 42, 2);
  put(bytes, starts[0]!, 4);
  ifds.forEach((ifd, k) => {
    let extra = starts[k]! + 2 + 12 * ifd.length + 4;
    const tail: number[] = [];
    put(bytes, ifd.length, 2);
    for (const f of ifd) {
      const link = links.find((l) => l.from === k && l.tag === f.tag);
      const value = raw(f);
      put(bytes, f.tag, 2);
      put(bytes, f.type, 2);
      put(bytes, f.count, 4);
      if (link) put(bytes, starts[link.to]!, 4);
      else if (value.length <= 4) bytes.push(...value, ...Array(4 - value.length).fill(0));
      else {
        put(bytes, extra, 4);
        tail.push(...value);
        extra += value.length;
      }
    }
    put(bytes, 0, 4);
    bytes.push(...tail);
  });
  return Uint8Array.from(bytes);
}

describe('readExifPrivacy', () => {
  const gpsIfd: Field[] = [
    { tag: 0x0000, type: 1, count: 4, value: [2, 3, 0, 0] },
    { tag: 0x0001, type: 2, count: 2, value: 'N' },
    { tag: 0x0002, type: 5, count: 3, value: [51, 1, 30, 1, 1234, 100] },
  ];
  const exifIfd: Field[] = [{ tag: 0xa431, type: 2, count: 8, value: 'SN12345' }];
  const ifd0: Field[] = [
    { tag: 0x010f, type: 2, count: 5, value: 'Acme' },
    { tag: 0x8769, type: 4, count: 1, value: [0] },
    { tag: 0x8825, type: 4, count: 1, value: [0] },
  ];
  const links = [
    { from: 0, tag: 0x8769, to: 1 },
    { from: 0, tag: 0x8825, to: 2 },
  ];

  test.each([true, false])('GPS latitude and a body serial number are found (little-endian: %s)', (le) => {
    const block = tiff(le, [ifd0, exifIfd, gpsIfd], links);
    expect(readExifPrivacy(block)).toEqual({ gps: true, identifying: [{ tag: 'BodySerialNumber', value: 'SN12345' }] });
    // The same block behind the "Exif\0\0" marker of a JPEG APP1 segment.
    const app1 = Uint8Array.from([...Buffer.from('Exif\0\0', 'latin1'), ...block]);
    expect(readExifPrivacy(app1).gps).toBe(true);
  });

  test('a GPS IFD with only its version is no position; camera make alone identifies nobody', () => {
    const block = tiff(true, [ifd0, [], gpsIfd.slice(0, 1)], links);
    expect(readExifPrivacy(block)).toEqual({ gps: false, identifying: [] });
  });

  test('truncated blocks, a pointer loop and non-TIFF bytes read as nothing found, without throwing', () => {
    const block = tiff(true, [ifd0, exifIfd, gpsIfd], links);
    for (let cut = 0; cut < block.length; cut += 7) expect(() => readExifPrivacy(block.subarray(0, cut))).not.toThrow();
    const loop = tiff(false, [ifd0, exifIfd, gpsIfd], [links[0]!, { from: 0, tag: 0x8825, to: 0 }]);
    expect(readExifPrivacy(loop)).toEqual({ gps: false, identifying: [{ tag: 'BodySerialNumber', value: 'SN12345' }] });
    expect(readExifPrivacy(Buffer.from('not an exif block'))).toEqual({ gps: false, identifying: [] });
  });

  test('a JPEG written by sharp with GPS and serial tags, read back through sharp.metadata()', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#c00' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'Acme' },
        IFD2: { BodySerialNumber: 'SN12345', LensSerialNumber: 'L987' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 1234/100', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
      })
      .toBuffer();
    const { exif } = await sharp(jpeg).metadata();
    const found = readExifPrivacy(exif!);
    expect(found.gps).toBe(true);
    expect(found.identifying).toEqual(
      expect.arrayContaining([
        { tag: 'BodySerialNumber', value: 'SN12345' },
        { tag: 'LensSerialNumber', value: 'L987' },
      ]),
    );
    // Re-encoding without withMetadata drops the block: what --fix --redact-pii relies on.
    const stripped = await sharp(jpeg).jpeg().toBuffer();
    const after = (await sharp(stripped).metadata()).exif;
    expect(after === undefined ? { gps: false, identifying: [] } : readExifPrivacy(after)).toEqual({ gps: false, identifying: [] });
  });

  test('XMP packets with GPS properties', () => {
    expect(xmpHasGps(Buffer.from('<rdf:Description exif:GPSLatitude="51,30.2N"/>'))).toBe(true);
    expect(xmpHasGps(Buffer.from('<rdf:Description dc:title="GPS"/>'))).toBe(false);
  });
});
