// Float32 feature rows as a queue job carries them: base64 of their bytes, so no digit is lost
// between a worker (embed/range.ts) and the coordinator (embed/merge.ts).

/** The rows of several parts, one after another. */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** The rows' bytes as base64 (a JSON-safe queue job result). */
export const base64 = (rows: Float32Array): string => Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64');
/** The rows `base64` encoded. */
export const floats = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
