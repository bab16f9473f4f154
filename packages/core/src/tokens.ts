// Typed injection tokens, one per plugin kind. `Symbol.for` keeps token identity when two copies
// of @mmft/core end up installed (a third-party plugin with its own copy still registers into ours).
import type { InjectionToken } from 'tsyringe';
import type { ArchitectureProvider } from './contracts/architecture';
import type { BackendProvider } from './contracts/backend';
import type { DatasetProvider } from './contracts/dataset';
import type { LossProvider } from './contracts/loss';
import type { MetricProvider } from './contracts/metric';
import type { PeftMethodProvider } from './contracts/peft';
import type { TrainerProvider } from './contracts/trainer';
import type { ExporterProvider } from './contracts/exporter';

export const ARCHITECTURES: InjectionToken<ArchitectureProvider> = Symbol.for('@mmft/core:Architecture');
export const BACKENDS: InjectionToken<BackendProvider> = Symbol.for('@mmft/core:Backend');
export const DATASETS: InjectionToken<DatasetProvider> = Symbol.for('@mmft/core:Dataset');
export const LOSSES: InjectionToken<LossProvider> = Symbol.for('@mmft/core:Loss');
export const METRICS: InjectionToken<MetricProvider> = Symbol.for('@mmft/core:Metric');
export const PEFT_METHODS: InjectionToken<PeftMethodProvider> = Symbol.for('@mmft/core:PeftMethod');
export const TRAINERS: InjectionToken<TrainerProvider> = Symbol.for('@mmft/core:Trainer');
export const EXPORTERS: InjectionToken<ExporterProvider> = Symbol.for('@mmft/core:Exporter');
