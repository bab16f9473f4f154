// The protobuf messages of a TensorBoard event file, declared through protobufjs's reflection API
// (no generated code). Field numbers follow tensorboard/compat/proto/event.proto, summary.proto,
// tensor.proto, tensor_shape.proto and types.proto (DT_STRING = 7) in the tensorboard repository.
import * as protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: {
          fields: {
            wall_time: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            file_version: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encoded_image_string: { type: 'bytes', id: 4 },
              },
            },
            Value: {
              fields: {
                tag: { type: 'string', id: 1 },
                simple_value: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
                tensor: { type: 'TensorProto', id: 8 },
                metadata: { type: 'SummaryMetadata', id: 9 },
              },
            },
          },
        },
        SummaryMetadata: {
          fields: { plugin_data: { type: 'PluginData', id: 1 } },
          nested: { PluginData: { fields: { plugin_name: { type: 'string', id: 1 }, content: { type: 'bytes', id: 2 } } } },
        },
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensor_shape: { type: 'TensorShapeProto', id: 2 },
            string_val: { rule: 'repeated', type: 'bytes', id: 8 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dim', id: 2 } },
          nested: { Dim: { fields: { size: { type: 'int64', id: 1 } } } },
        },
      },
    },
  },
});

const EventType = root.lookupType('tensorboard.Event');

/** tensorboard/compat/proto/types.proto: DataType.DT_STRING. */
export const DT_STRING = 7;
/** tensorboard/compat/proto/summary.proto, Summary.Image.colorspace: 3 is RGB, 4 RGBA. */
export const COLORSPACE_RGB = 3;

/** One `Summary.Value` as the writer builds it (snake_case, as in the .proto). */
export type SummaryValue =
  | { readonly tag: string; readonly simple_value: number }
  | {
      readonly tag: string;
      readonly image: {
        readonly height: number;
        readonly width: number;
        readonly colorspace: number;
        readonly encoded_image_string: Uint8Array;
      };
    }
  | {
      readonly tag: string;
      readonly metadata: { readonly plugin_data: { readonly plugin_name: string; readonly content?: Uint8Array } };
      readonly tensor: {
        readonly dtype: number;
        readonly tensor_shape: { readonly dim: readonly { size: number }[] };
        readonly string_val: readonly Uint8Array[];
      };
    };

/** An `Event`: the file-version record, or a summary at a step. */
export type EventMessage =
  | { readonly wall_time: number; readonly step?: number; readonly file_version: string }
  | { readonly wall_time: number; readonly step: number; readonly summary: { readonly value: readonly SummaryValue[] } };

/**
 * Serialise one Event.
 *
 * @example
 * encodeEvent({ wall_time: 1, step: 3, summary: { value: [{ tag: 'train/loss', simple_value: 0.5 }] } });
 */
export function encodeEvent(event: EventMessage): Uint8Array {
  return EventType.encode(EventType.fromObject(event as unknown as Record<string, unknown>)).finish();
}

/** Parse one Event back (tests; the independent reader is scripts/read-tfevents.py). */
export function decodeEvent(bytes: Uint8Array): Record<string, unknown> {
  return EventType.toObject(EventType.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}

/** A scalar as torch.utils.tensorboard's add_scalar writes it: `simple_value`. */
export function scalarValue(tag: string, value: number): SummaryValue {
  return { tag, simple_value: value };
}

/** A PNG as `Summary.Image` (what the images dashboard shows). */
export function imageValue(
  tag: string,
  png: Uint8Array,
  size: { width: number; height: number },
  colorspace = COLORSPACE_RGB,
): SummaryValue {
  return { tag, image: { height: size.height, width: size.width, colorspace, encoded_image_string: png } };
}

/**
 * Markdown text as the text plugin reads it (tensorboard/plugins/text/summary_v2.py, metadata.py): a scalar
 * DT_STRING tensor with `plugin_data.plugin_name = "text"` and empty content (TextPluginData v0).
 */
export function textValue(tag: string, markdown: string): SummaryValue {
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'text', content: new Uint8Array(0) } },
    tensor: { dtype: DT_STRING, tensor_shape: { dim: [] }, string_val: [new TextEncoder().encode(markdown)] },
  };
}
