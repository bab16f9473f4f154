// Works around a typing gap, not a runtime one: with TypeScript 5.9 and the repo's pinned
// @types/node 20.9, a Buffer is not assignable to Uint8Array (ArrayBufferLike vs ArrayBuffer),
// so Buffers are handed to byte APIs as plain Uint8Array views over the same memory.

/** The same bytes as a Uint8Array view (no copy). */
export function view(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A Buffer over the same memory as `bytes` (no copy). */
export function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
