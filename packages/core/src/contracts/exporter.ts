// Exporter contract: write a trained model in a serving format (ONNX for onnxruntime-node).
import type { VisionLanguageModel } from './architecture';
import type { ProviderBase } from './provider';

export interface ExportResult {
  readonly files: readonly string[];
  /** The model graphs among `files` (e.g. the .onnx files), when the format has several files per model. */
  readonly models?: readonly string[];
}

/** One output compared between the exported files and the in-process model. */
export interface ExportCheckRow {
  /** The exported file, relative to the export folder. */
  readonly file: string;
  readonly output: string;
  readonly dims: readonly number[];
  readonly maxAbsDiff: number;
}

/** What `ExporterProvider.check` measured; `ok` when every max |Δ| is within `tolerance`. */
export interface ExportCheckReport {
  readonly rows: readonly ExportCheckRow[];
  readonly maxAbsDiff: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

export interface ExporterProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'exporter';
  /** Output format name ("onnx"). */
  readonly format: string;
  export(model: VisionLanguageModel, config: Config, outDir: string): Promise<ExportResult>;
  /** Runs the exported files in their runtime and compares their outputs with `model`'s on the same inputs (optional). */
  check?(model: VisionLanguageModel, outDir: string, options?: { tolerance?: number }): Promise<ExportCheckReport>;
}

declare module './kinds' {
  interface ProviderKindMap {
    exporter: ExporterProvider;
  }
}
