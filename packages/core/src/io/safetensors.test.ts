import { describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMmftError } from '../errors';
import { parseSafetensors, readSafetensors } from './safetensors';
import { serializeSafetensors, writeSafetensors, type WritableTensor } from './safetensors-write';

/** Builds a file from a header object and raw data bytes, for files no honest writer makes. */
function craft(header: unknown, data: Uint8Array | number = 0, rawHeader?: Uint8Array): Uint8Array {
  const json = rawHeader ?? new TextEncoder().encode(JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function parseError(bytes: Uint8Array): Error {
  try {
    parseSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    expect(isMmftError(e) && e.code).toBe('E_SAFETENSORS');
    expect((e as Error).message.startsWith('bad.safetensors: ')).toBe(true);
    return e as Error;
  }
  throw new Error('expected the file to be rejected');
}

const f32 = (shape: number[], values: number[]): WritableTensor => ({ dtype: 'F32', shape, data: new Float32Array(values) });
const headerText = (bytes: Uint8Array) => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
};

describe('writer layout (as huggingface/safetensors serialize)', () => {
  test('compact JSON, 8-byte aligned header padded with spaces', () => {
    const one = serializeSafetensors({ 'attn.0': f32([1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    expect(headerText(one)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'); // 64 bytes: no padding
    expect(one.length).toBe(8 + 64 + 24);
    const two = serializeSafetensors({ attn0: f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    expect(headerText(two)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect(headerText(serializeSafetensors({}))).toBe('{}      ');
    expect(headerText(serializeSafetensors(new Map(), { framework: 'pt' }))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  test('tensors sorted by dtype alignment (descending) then name', () => {
    const bytes = serializeSafetensors({
      b: f32([1], [1]),
      a: { dtype: 'I64', shape: [1], data: [7] },
      c: { dtype: 'U8', shape: [2], data: [1, 2] },
      d: { dtype: 'F16', shape: [1], data: [1] },
      aa: f32([1], [2]),
    });
    const order = Object.keys(JSON.parse(headerText(bytes)));
    expect(order).toEqual(['a', 'aa', 'b', 'd', 'c']);
  });
});

describe('round trip', () => {
  test('every dtype comes back bit-exact, with metadata', () => {
    const floats = new Float32Array([0, -0, 1.5, -3.25e-40, Infinity, -Infinity, 3.4028234663852886e38]);
    const nanBits = new Uint32Array([0x7fc00001, 0xffa00000]); // NaNs with payloads
    const withNaN = new Float32Array([...floats, ...new Float32Array(nanBits.buffer)]);
    const tensors: Record<string, WritableTensor> = {
      f32: { dtype: 'F32', shape: [3, 3], data: withNaN },
      f64: { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
      f16: { dtype: 'F16', shape: [4], data: [1, -2.5, 65504, 2 ** -24] },
      bf16: { dtype: 'BF16', shape: [2, 1], data: [1, -2.5] },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 2147483647n]) },
      i32: { dtype: 'I32', shape: [2], data: new Int32Array([-2147483648, 7]) },
      i16: { dtype: 'I16', shape: [2], data: [-32768, 32767] },
      i8: { dtype: 'I8', shape: [2], data: [-128, 127] },
      u8: { dtype: 'U8', shape: [2], data: [0, 255] },
      bool: { dtype: 'BOOL', shape: [3], data: [1, 0, 1] },
      scalar: { dtype: 'F32', shape: [], data: [42] },
      empty: { dtype: 'F32', shape: [0, 4], data: [] },
    };
    const { tensors: back, metadata } = parseSafetensors(serializeSafetensors(tensors, { format: 'pt', note: 'ü' }), 'rt');
    expect(metadata).toEqual({ format: 'pt', note: 'ü' });
    const bitsOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    expect(bitsOf(back.get('f32')!.data)).toEqual(bitsOf(withNaN));
    expect(Array.from(back.get('f64')!.data)).toEqual([Math.PI, -1e300]);
    expect(back.get('f16')).toEqual({ dtype: 'F16', shape: [4], data: new Float32Array([1, -2.5, 65504, 2 ** -24]) });
    expect(back.get('bf16')).toEqual({ dtype: 'BF16', shape: [2, 1], data: new Float32Array([1, -2.5]) });
    expect(back.get('i64')).toEqual({ dtype: 'I64', shape: [2], data: new Int32Array([-5, 2147483647]) });
    expect(back.get('i32')!.data).toEqual(new Int32Array([-2147483648, 7]));
    expect(back.get('i16')!.data).toEqual(new Int16Array([-32768, 32767]));
    expect(back.get('i8')!.data).toEqual(new Int8Array([-128, 127]));
    expect(back.get('u8')!.data).toEqual(new Uint8Array([0, 255]));
    expect(back.get('bool')!.data).toEqual(new Uint8Array([1, 0, 1]));
    expect(back.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([42]) });
    expect(back.get('empty')!.data.length).toBe(0);
  });

  test('written files read back identically, atomically, leaving no temp files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmft-st-'));
    const path = join(dir, 'model.safetensors');
    const data = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e3);
    await writeFile(path, 'old contents');
    await writeSafetensors(path, new Map([['w', { dtype: 'F32', shape: [10, 100], data }]]), { format: 'pt' });
    const file = await readSafetensors(path);
    expect(file.tensors.get('w')!.data).toEqual(data);
    expect(new Uint8Array(await readFile(path))).toEqual(
      serializeSafetensors({ w: { dtype: 'F32', shape: [10, 100], data } }, { format: 'pt' }),
    );
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    await expect(writeSafetensors(join(dir, 'no', 'such', 'x.safetensors'), {})).rejects.toMatchObject({ code: 'E_IO' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  test('results do not alias the input buffer', () => {
    const bytes = serializeSafetensors({ w: f32([2], [1, 2]) });
    const { tensors } = parseSafetensors(bytes);
    bytes.fill(0);
    expect(Array.from(tensors.get('w')!.data)).toEqual([1, 2]);
  });
});

describe('rejecting truncated and lying files', () => {
  const good = serializeSafetensors({ a: f32([2, 2], [1, 2, 3, 4]), b: { dtype: 'I32', shape: [3], data: [1, 2, 3] } });

  test('shorter than 8 bytes', () => {
    expect(parseError(new Uint8Array(5)).message).toMatch(/5 bytes, shorter than the 8-byte header length/);
  });

  test('header length beyond the file, or absurdly large', () => {
    expect(parseError(good.slice(0, 20)).message).toMatch(/the header claims \d+ bytes but the file has only 12/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(parseError(huge).message).toMatch(/more than the 100000000 allowed/);
  });

  test('every truncation of a valid file is rejected with E_SAFETENSORS', () => {
    for (let length = 0; length < good.length; length++) parseError(good.slice(0, length));
  });

  test('invalid JSON, invalid UTF-8, non-object header', () => {
    expect(parseError(craft(null, 0, new TextEncoder().encode('{"a": '))).message).toMatch(/not valid JSON/);
    expect(parseError(craft(null, 0, new Uint8Array([0x7b, 0xff, 0x7d]))).message).toMatch(/not valid UTF-8/);
    expect(parseError(craft([1, 2])).message).toMatch(/not a JSON object/);
    expect(parseError(craft({ __metadata__: { n: 1 } })).message).toMatch(/__metadata__\["n"\] is 1, not a string/);
  });

  test('unknown dtype, bad shape, bad offsets name the tensor', () => {
    expect(parseError(craft({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1)).message).toMatch(
      /tensor "w": unknown dtype "F8_E4M3"; supported: BOOL, U8, I8, I16, F16, BF16, I32, F32, F64, I64$/,
    );
    expect(parseError(craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)).message).toMatch(/tensor "w": shape \[-1\]/);
    expect(parseError(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4)).message).toMatch(
      /tensor "w": data_offsets \[4,0\]/,
    );
    expect(parseError(craft({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, 20)).message).toMatch(
      /tensor "w": F32 of shape \[2, 3\] needs 24 bytes but data_offsets \[0, 20\] hold 20/,
    );
    expect(parseError(craft({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, 4)).message).toMatch(
      /needs too many bytes/,
    );
  });

  test('offsets out of range, overlapping, leaving gaps or trailing bytes', () => {
    const t = (begin: number, end: number) => ({ dtype: 'U8', shape: [end - begin], data_offsets: [begin, end] });
    expect(parseError(craft({ a: t(0, 4), b: t(4, 8) }, 6)).message).toMatch(
      /tensor "b" \(bytes 4–8\) ends past the data section of 6 bytes/,
    );
    expect(parseError(craft({ a: t(0, 4), b: t(2, 6) }, 6)).message).toMatch(/tensor "b" \(bytes 2–6\) overlaps tensor "a" \(bytes 0–4\)/);
    expect(parseError(craft({ a: t(0, 2), b: t(4, 6) }, 6)).message).toMatch(/bytes 2–4 before tensor "b" .* belong to no tensor/);
    expect(parseError(craft({ a: t(0, 4) }, 6)).message).toMatch(/the tensors cover 4 bytes but the data section has 6/);
  });

  test('values that do not fit: I64 beyond int32, BOOL other than 0/1', () => {
    const big = new Uint8Array(new BigInt64Array([1n, 2n ** 40n]).buffer);
    expect(parseError(craft({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, big)).message).toMatch(
      /tensor "ids": I64 element 1 is 1099511627776, outside the int32 range/,
    );
    expect(parseError(craft({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 2]))).message).toMatch(
      /tensor "m": BOOL element 1 is 2/,
    );
  });

  test('random corruption is either read or rejected with E_SAFETENSORS, never another failure', () => {
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 500; i++) {
      const bytes = good.slice();
      for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        const { tensors } = parseSafetensors(bytes);
        for (const t of tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      } catch (e) {
        expect(isMmftError(e) && e.code).toBe('E_SAFETENSORS');
      }
    }
  });

  test('readSafetensors names the file: missing (E_IO) or truncated on disk (E_SAFETENSORS)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmft-st-'));
    await expect(readSafetensors(join(dir, 'none.safetensors'))).rejects.toMatchObject({
      code: 'E_IO',
      message: expect.stringContaining('none.safetensors'),
    });
    const path = join(dir, 'cut.safetensors');
    await writeFile(path, good.slice(0, good.length - 3));
    await expect(readSafetensors(path)).rejects.toMatchObject({
      code: 'E_SAFETENSORS',
      message: expect.stringContaining(`${path}: tensor "b"`),
    });
    await writeFile(path, good.slice(0, 3));
    await expect(readSafetensors(path)).rejects.toMatchObject({
      code: 'E_SAFETENSORS',
      message: expect.stringContaining('shorter than the 8-byte'),
    });
  });
});

describe('writer input checks', () => {
  const writeError = (tensors: Record<string, WritableTensor>) => {
    try {
      serializeSafetensors(tensors);
    } catch (e) {
      expect(isMmftError(e) && e.code).toBe('E_SAFETENSORS');
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };
  test('shape/data mismatch, bad dtype, out-of-range integers, reserved names', () => {
    expect(writeError({ w: f32([2, 2], [1, 2, 3]) })).toMatch(/tensor "w": shape \[2, 2\] does not match 3 data elements/);
    expect(writeError({ w: { dtype: 'F8' as 'F32', shape: [1], data: [1] } })).toMatch(/unknown dtype "F8"/);
    expect(writeError({ w: { dtype: 'I8', shape: [1], data: [200] } })).toMatch(/element 0 is 200, not an integer in \[-128, 127\]/);
    expect(writeError({ w: { dtype: 'I32', shape: [1], data: [1.5] } })).toMatch(/element 0 is 1.5/);
    expect(writeError({ w: { dtype: 'F32', shape: [1], data: new BigInt64Array([1n]) } })).toMatch(/only be written as I64/);
    expect(writeError({ __metadata__: f32([1], [1]) })).toMatch(/cannot be a tensor name/);
  });
});
