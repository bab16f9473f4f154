import { describe, expect, test } from '@jest/globals';
import { view } from './bytes';
import { decodeLine } from './decode-line';

describe('decodeLine', () => {
  test('strips a BOM on the first line only and a CR at the end', () => {
    const bom = view(Buffer.from('\uFEFF{"a":"中文"}\r', 'utf8'));
    expect(decodeLine(bom, true)).toEqual({ ok: true, text: '{"a":"中文"}', hadBom: true });
    expect(decodeLine(bom, false)).toMatchObject({ ok: true, text: '\uFEFF{"a":"中文"}' });
  });

  test('reports the 1-based byte column of the first non-UTF-8 byte', () => {
    const latin1 = view(Buffer.from('{"c":"caf\xe9"}', 'latin1'));
    expect(decodeLine(latin1, false)).toMatchObject({ ok: false, byteColumn: 10 });
  });
});
