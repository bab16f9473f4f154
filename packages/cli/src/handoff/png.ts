// A minimal PNG writer (8-bit RGB, no interlace, filter 0 on every row, one zlib IDAT) for images
// the engines' loaders (PIL) cannot read, such as the SVG scenes of the shapes world: decoded
// through @mmft/image, so the pixels are the ones mmft trains on. Layout: the PNG specification
// (signature, IHDR, IDAT, IEND; each chunk length + type + data + CRC-32 of type and data).
import { deflateSync } from 'node:zlib';
import type { ImageRef } from '@mmft/core';
import { decodeImage, type DecodedImage } from '@mmft/image';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as PNG and zlib use). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * PNG bytes of decoded RGB pixels.
 *
 * @example
 * encodePng({ data: new Uint8Array([255, 0, 0]), width: 1, height: 1 }); // a 1×1 red PNG
 */
export function encodePng(image: DecodedImage): Uint8Array {
  const { data, width, height } = image;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(data.buffer, data.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, filter method 0, no interlace
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]));
}

/** An image as PNG bytes, decoded as mmft decodes it (alpha flattened on white). */
export async function imageToPng(image: ImageRef): Promise<Uint8Array> {
  return encodePng(await decodeImage(image));
}
