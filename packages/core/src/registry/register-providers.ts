// The one-line body of most plugins' `register`: each provider under its kind's token.
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { AnyProvider } from '../contracts/kinds';
import type { PluginKind } from '../contracts/provider';
import { ARCHITECTURES, BACKENDS, DATASETS, EXPORTERS, LOSSES, METRICS, PEFT_METHODS, TRAINERS } from '../tokens';

/** The injection token of each plugin kind. */
export const KIND_TOKENS: Readonly<Record<PluginKind, InjectionToken<AnyProvider>>> = {
  architecture: ARCHITECTURES as InjectionToken<AnyProvider>,
  backend: BACKENDS as InjectionToken<AnyProvider>,
  dataset: DATASETS as InjectionToken<AnyProvider>,
  exporter: EXPORTERS as InjectionToken<AnyProvider>,
  loss: LOSSES as InjectionToken<AnyProvider>,
  metric: METRICS as InjectionToken<AnyProvider>,
  peft: PEFT_METHODS as InjectionToken<AnyProvider>,
  trainer: TRAINERS as InjectionToken<AnyProvider>,
};

/**
 * Register provider objects under their kind's token (multi-registration).
 *
 * @example
 * register: (container) => registerProviders(container, [loraMethod])
 */
export function registerProviders(container: DependencyContainer, providers: readonly AnyProvider[]): void {
  for (const provider of providers) container.register(KIND_TOKENS[provider.kind], { useValue: provider });
}
