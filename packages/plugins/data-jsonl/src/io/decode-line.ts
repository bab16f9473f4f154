// Turns the raw bytes of one line into text: strips a UTF-8 byte-order mark on line 1 and a "\r"
// left by CRLF files, and refuses bytes that are not UTF-8 (reporting the byte column) instead of
// replacing them with U+FFFD as TextDecoder's default mode would.
import { isUtf8 } from 'node:buffer';
import { buffer, view } from './bytes';

export type DecodedLine =
  | { readonly ok: true; readonly text: string; readonly hadBom: boolean }
  | { readonly ok: false; readonly byteColumn: number; readonly lossy: string };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Decode one line. `first` enables BOM stripping (a BOM is only legal at the start of a file).
 *
 * @example
 * decodeLine(Buffer.from('{"a":1}\r'), false) // { ok: true, text: '{"a":1}', hadBom: false }
 */
export function decodeLine(bytes: Uint8Array, first: boolean): DecodedLine {
  let body = buffer(bytes);
  const hadBom = first && body.length >= 3 && body[0] === BOM[0] && body[1] === BOM[1] && body[2] === BOM[2];
  if (hadBom) body = body.subarray(3);
  if (body.length > 0 && body[body.length - 1] === 13) body = body.subarray(0, body.length - 1);
  if (isUtf8(view(body))) return { ok: true, text: body.toString('utf8'), hadBom };
  const lossy = body.toString('utf8');
  // The prefix before the first replacement character re-encodes to the bytes before the bad one.
  const cut = lossy.indexOf('\uFFFD');
  const byteColumn = Buffer.byteLength(cut === -1 ? lossy : lossy.slice(0, cut), 'utf8') + (hadBom ? 3 : 0) + 1;
  return { ok: false, byteColumn, lossy };
}

/** True for a line holding only whitespace: not a record. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
