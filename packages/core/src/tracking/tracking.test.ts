import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';
import { EventFileWriter } from './event-file';
import { decodeEvent, encodeEvent, textValue } from './event-proto';
import { frameRecord, maskedCrc32c, readRecords } from './tfrecord';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('TFRecord framing', () => {
  test('CRC32C known vectors: "123456789" is 0xE3069283, 32 zero bytes 0x8A9136AA (RFC 3720 B.4)', () => {
    expect(crc32c(bytes('123456789')) >>> 0).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32)) >>> 0).toBe(0x8a9136aa);
  });

  test('the mask is rotate-right-15 plus 0xa282ead8, modulo 2^32 (worked by hand for "123456789")', () => {
    // 0xE3069283 rotated right by 15: low 15 bits 0x1283 move to the top.
    const crc = 0xe3069283;
    const rotated = ((crc >>> 15) | ((crc & 0x7fff) << 17)) >>> 0;
    expect(rotated).toBe(0x2507c60d);
    expect(maskedCrc32c(bytes('123456789'))).toBe((0x2507c60d + 0xa282ead8) % 2 ** 32);
  });

  test('a record is length (LE uint64), its masked CRC, the data and its masked CRC', () => {
    const data = bytes('abc');
    const rec = frameRecord(data);
    expect(rec.length).toBe(8 + 4 + 3 + 4);
    expect([...rec.subarray(0, 8)]).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    const view = new DataView(rec.buffer);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(rec.subarray(0, 8)));
    expect([...rec.subarray(12, 15)]).toEqual([97, 98, 99]);
    expect(view.getUint32(15, true)).toBe(maskedCrc32c(data));
    expect(readRecords(rec).map((r) => [...r])).toEqual([[97, 98, 99]]);
    rec[13] ^= 1;
    expect(() => readRecords(rec, 'x')).toThrow('x: bad data CRC at byte 0');
  });
});

describe('Event messages', () => {
  test('a scalar event has the wire bytes of event.proto / summary.proto, checked by hand', () => {
    const out = encodeEvent({ wall_time: 0, step: 3, summary: { value: [{ tag: 'a', simple_value: 1 }] } });
    // step (field 2 varint) = 0x10 03; summary (field 5, len 10) = 0x2a 0a; value (field 1, len 8) = 0x0a 08;
    // tag (field 1, "a") = 0x0a 01 61; simple_value (field 2, fixed32) = 0x15 + 1.0f LE (00 00 80 3f).
    // wall_time 0 is the proto3 default, but protobufjs writes a set field: 0x09 + 8 zero bytes.
    const hex = Buffer.from(out).toString('hex');
    expect(hex).toBe('09' + '00'.repeat(8) + '1003' + '2a0a' + '0a08' + '0a0161' + '150000803f');
  });

  test('text is a scalar DT_STRING tensor for the "text" plugin', () => {
    const ev = decodeEvent(encodeEvent({ wall_time: 1.5, step: 0, summary: { value: [textValue('recipe', '# hi')] } }));
    const value = (ev.summary as { value: Record<string, unknown>[] }).value[0]!;
    expect(value.tag).toBe('recipe');
    // Empty content (TextPluginData version 0) is the proto3 default: absent on the wire.
    expect(value.metadata).toEqual({ plugin_data: { plugin_name: 'text' } });
    expect(value.tensor).toEqual({ dtype: 7, tensor_shape: {}, string_val: [[...bytes('# hi')]] });
  });
});

describe('EventFileWriter', () => {
  test('writes file_version first, appends each event at once, and a second writer opens a new file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-tb-'));
    let t = 100;
    const w = EventFileWriter.open(dir, { now: () => t });
    expect(path.basename(w.file)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.100\\..+\\.${process.pid}\\.\\d+$`));
    t = 101.25;
    w.scalars(7, { 'train/loss': 0.5, 'train/lr': 0.001 });
    // Readable before close: a crashed run keeps what it logged.
    const events = readRecords(fs.readFileSync(w.file)).map(decodeEvent);
    expect(events[0]).toEqual({ wall_time: 100, step: 0, file_version: 'brain.Event:2' });
    expect(events[1]).toEqual({
      wall_time: 101.25,
      step: 7,
      summary: {
        value: [
          { tag: 'train/loss', simple_value: 0.5 },
          { tag: 'train/lr', simple_value: Math.fround(0.001) },
        ],
      },
    });
    w.image(7, 'samples/0', new Uint8Array([137, 80]), { width: 2, height: 1 });
    w.close();
    const img = (readRecords(fs.readFileSync(w.file)).map(decodeEvent)[2]!.summary as { value: Record<string, unknown>[] }).value[0];
    expect(img).toEqual({ tag: 'samples/0', image: { height: 1, width: 2, colorspace: 3, encoded_image_string: [137, 80] } });
    expect(() => w.text(8, 'x', 'y')).toThrow('is closed');
    const w2 = EventFileWriter.open(dir, { now: () => t });
    w2.close();
    expect(fs.readdirSync(dir).length).toBe(2);
  });
});
