// TFRecord framing, the container of a TensorBoard event file: uint64 LE length, masked CRC32C of
// the length, the data, masked CRC32C of the data (tensorboard/summary/writer/record_writer.py and
// the reader in tensorboard/compat/tensorflow_stub/pywrap_tensorflow.py).
import { crc32c } from '@aws-crypto/crc32c';

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay distinct. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/**
 * One record: header (length + its masked CRC), data, footer (data's masked CRC).
 *
 * @example
 * fs.appendFileSync(file, frameRecord(encodeEvent(event)));
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Split a file's bytes back into records, checking both CRCs of each (tests and tools). */
export function readRecords(bytes: Uint8Array, file = 'event file'): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`${file}: truncated record header at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes.subarray(at, at + 8))) throw new Error(`${file}: bad length CRC at byte ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (at + 16 + length > bytes.length) throw new Error(`${file}: truncated record at byte ${at}`);
    if (view.getUint32(at + 12 + length, true) !== maskedCrc32c(data)) throw new Error(`${file}: bad data CRC at byte ${at}`);
    records.push(data);
    at += 16 + length;
  }
  return records;
}
