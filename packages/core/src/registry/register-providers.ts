// The one-line body of most plugins' `register`: each provider under its kind's token.
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { KIND_TOKENS } from '../contracts/kind-specs';
import type { AnyProvider } from '../contracts/kinds';

/**
 * Register provider objects under their kind's token (multi-registration).
 *
 * @example
 * register: (container) => registerProviders(container, [loraMethod])
 */
export function registerProviders(container: DependencyContainer, providers: readonly AnyProvider[]): void {
  for (const provider of providers) container.register(KIND_TOKENS[provider.kind] as InjectionToken<AnyProvider>, { useValue: provider });
}
