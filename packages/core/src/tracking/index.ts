// @mmft/core/tracking: TensorBoard event files (TFRecord framing + Event/Summary protobufs), shared
// by any reporter plugin that writes them.
export { EventFileWriter } from './event-file';
export {
  COLORSPACE_RGB,
  decodeEvent,
  DT_STRING,
  encodeEvent,
  imageValue,
  scalarValue,
  textValue,
  type EventMessage,
  type SummaryValue,
} from './event-proto';
export { frameRecord, maskedCrc32c, readRecords } from './tfrecord';
