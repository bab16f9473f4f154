// Exporter contract: write a trained model in a serving format (ONNX for onnxruntime-node).
import type { VisionLanguageModel } from './architecture';
import type { ProviderBase } from './provider';

export interface ExportResult {
  readonly files: readonly string[];
}

export interface ExporterProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'exporter';
  /** Output format name ("onnx"). */
  readonly format: string;
  export(model: VisionLanguageModel, config: Config, outDir: string): Promise<ExportResult>;
}

declare module './kinds' {
  interface ProviderKindMap {
    exporter: ExporterProvider;
  }
}
