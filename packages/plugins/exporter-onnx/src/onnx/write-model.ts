// Writes an OnnxGraph (graph.ts) as an ONNX ModelProto file with protobufjs, moving large weights to
// `<file>_data` as onnx/onnx docs/ExternalData.md describes (location/offset/length, data_location
// EXTERNAL = 1) and importing the opsets it uses (IR/opset table in onnx/onnx docs/Versioning.md:
// opset 17 ships with IR version 8).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { MmftError } from '@mmft/core';
import type { OnnxGraph } from './graph';
import { tensorBytes } from './proto';

export interface WriteOptions {
  /** ai.onnx opset (default 17). */
  opset?: number;
  /** IR version (default 8, the one that ships with opset 17). */
  irVersion?: number;
  producerVersion?: string;
  /** Extra operator domains and their versions, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Record<string, number>;
  /**
   * When the initializers together exceed this many bytes (default 2 GiB, protobuf's message
   * limit and optimum's EXTERNAL_DATA_FORMAT_SIZE_LIMIT), every initializer of at least
   * `externalDataMinBytes` goes to `<file>_data`.
   */
  externalDataThreshold?: number;
  /** Smallest initializer moved to external data (default 1024 bytes, onnx's save_model size_threshold). */
  externalDataMinBytes?: number;
  /** Key/value strings stored in ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2 * 1024 ** 3;
const EXTERNAL_ALIGN = 4096; // onnx/onnx docs/ExternalData.md: offset SHOULD be a multiple of the page size

/**
 * Writes `graph` as an ONNX model to `file` (and `<file>_data` when the weights are large).
 * Load an external-data model by path: onnxruntime-node refuses external data for a model given as bytes.
 *
 * @example
 * const { files } = await writeOnnxModel(g, 'out/model.onnx'); // ['out/model.onnx'] (+ 'out/model.onnx_data' above 2 GiB)
 */
export async function writeOnnxModel(
  graph: OnnxGraph,
  file: string,
  options: WriteOptions = {},
): Promise<{ files: string[]; bytes: number }> {
  const threshold = options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  const minBytes = options.externalDataMinBytes ?? Math.min(1024, threshold);
  const entries = graph.initializerEntries();
  const total = entries.reduce((s, [, t]) => s + t.data.byteLength, 0);
  const external = new Map<string, { offset: number; length: number; location: string }>();
  const files: string[] = [file];
  let bytes = 0;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const dataFile = `${file}_data`;
  await fs.rm(dataFile, { force: true });
  if (total > threshold) {
    const location = path.basename(dataFile);
    const handle = await fs.open(dataFile, 'w');
    try {
      let offset = 0;
      for (const [name, t] of entries) {
        if (t.data.byteLength < minBytes) continue;
        offset = Math.ceil(offset / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
        const raw = tensorBytes(t, name);
        await handle.write(raw, 0, raw.byteLength, offset);
        external.set(name, { offset, length: raw.byteLength, location });
        offset += raw.byteLength;
      }
      bytes += offset;
    } finally {
      await handle.close();
    }
    files.push(dataFile);
  }
  const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: options.opset ?? 17 }];
  const extra = { ...options.extraOpsets };
  for (const d of graph.domains()) {
    if (!(d in extra)) {
      throw new MmftError(
        'E_CONFIG',
        `graph ${graph.name} uses operators of domain ${d} but WriteOptions.extraOpsets has no version for it`,
        {
          hint: `pass extraOpsets: { '${d}': 1 }`,
        },
      );
    }
  }
  for (const [domain, version] of Object.entries(extra)) opsetImport.push({ domain, version });
  const model = onnx.ModelProto.create({
    irVersion: options.irVersion ?? 8,
    opsetImport,
    producerName: 'mmft',
    producerVersion: options.producerVersion ?? '',
    graph: graph.toProto(external),
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const encoded = onnx.ModelProto.encode(model).finish();
  await fs.writeFile(file, encoded);
  bytes += encoded.byteLength;
  return { files, bytes };
}
