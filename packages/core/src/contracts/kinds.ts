// Maps each plugin kind to its provider type, so `resolve('metric', id)` is typed.
import type { ArchitectureProvider } from './architecture';
import type { BackendProvider } from './backend';
import type { DatasetProvider } from './dataset';
import type { ExporterProvider } from './exporter';
import type { LossProvider } from './loss';
import type { MetricProvider } from './metric';
import type { PeftMethodProvider } from './peft';
import type { TrainerProvider } from './trainer';

export interface ProviderKindMap {
  architecture: ArchitectureProvider;
  backend: BackendProvider;
  dataset: DatasetProvider;
  exporter: ExporterProvider;
  loss: LossProvider;
  metric: MetricProvider;
  peft: PeftMethodProvider;
  trainer: TrainerProvider;
}

export type ProviderOf<K extends keyof ProviderKindMap> = ProviderKindMap[K];
export type AnyProvider = ProviderKindMap[keyof ProviderKindMap];
