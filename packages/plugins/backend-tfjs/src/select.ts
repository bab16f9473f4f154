// Selection: load the preferred engines in order, take the first that loads and initialises,
// install its kernel overrides. tf.setBackend is process-global, so selection is too: the same
// config again returns the first result; a different one is refused (see docs/backends.md).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type BackendSelection } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { capabilitiesOf } from './capabilities';
import type { TfjsBackendConfig } from './config';
import { ENGINES } from './engines';
import { probeEngines, defaultSearchPaths, type EngineProbe } from './probe';
import { installKernelOverrides, removeKernelOverrides } from './kernels/install';

interface SelectionState {
  readonly key: string;
  readonly selection: BackendSelection;
}
const STATE_KEY = Symbol.for('@mmft/backend-tfjs:selection');
const holder = globalThis as unknown as Record<symbol, SelectionState | undefined>;

const configKey = (config: TfjsBackendConfig): string => JSON.stringify({ prefer: config.prefer, overrides: config.overrides });
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

async function tryEngine(probe: EngineProbe): Promise<string | undefined> {
  const spec = ENGINES[probe.name];
  try {
    await spec.load(probe.resolved!);
  } catch (error) {
    return `failed to load: ${messageOf(error)}`;
  }
  // setBackend resolves false (and tfjs logs the cause) when the engine's factory throws.
  const ok = await tf.setBackend(spec.tfjsBackend).catch((error: unknown) => {
    throw new MmftError('E_BACKEND', `tf.setBackend("${spec.tfjsBackend}") threw: ${messageOf(error)}`, { cause: error });
  });
  return ok ? undefined : `failed to initialise: tf.setBackend("${spec.tfjsBackend}") returned false (tfjs logged why above)`;
}

/**
 * Select the engine for this process. Called again with the same config it returns the earlier
 * selection; with a different config it throws E_BACKEND (call resetBackendSelection() first).
 *
 * @example
 * const { name, reason } = await selectBackend(tfjsBackendConfigSchema.parse({}));
 */
export async function selectBackend(
  config: TfjsBackendConfig,
  searchPaths: readonly string[] = defaultSearchPaths(),
): Promise<BackendSelection> {
  const key = configKey(config);
  const previous = holder[STATE_KEY];
  if (previous) {
    if (previous.key === key) return previous.selection;
    throw new MmftError(
      'E_BACKEND',
      `the tensor backend is already selected (${previous.selection.name}, config ${previous.key}); cannot select again with config ${key}`,
      {
        hint: 'tfjs has one active backend per process: use one backend config per run, or call resetBackendSelection() (tests, benchmarks) first',
      },
    );
  }
  // Autodiff is engine-independent but absent from tfjs-core's CommonJS build: set it up with the engine.
  registerGradients();
  const probes = probeEngines(config.prefer, searchPaths);
  const results: EngineProbe[] = [];
  let chosen: EngineProbe | undefined;
  for (const probe of probes) {
    if (chosen || !probe.available || !config.prefer.includes(probe.name)) {
      results.push(
        chosen && config.prefer.includes(probe.name) && probe.available
          ? { ...probe, reason: `${probe.reason}; not tried, ${chosen.name} came first` }
          : probe,
      );
      continue;
    }
    const failure = await tryEngine(probe);
    if (failure) results.push({ ...probe, available: false, reason: failure });
    else results.push((chosen = { ...probe, reason: 'selected' }));
  }
  if (!chosen) {
    throw new MmftError(
      'E_BACKEND',
      `no tensor backend could be set up; tried ${config.prefer.join(', ')}: ${results.map((p) => `${p.name}: ${p.reason}`).join('; ')}`,
      {
        hint: 'add "wasm" or "cpu" to backend.prefer: both ship with mmft',
      },
    );
  }
  const spec = ENGINES[chosen.name];
  const overrides = config.overrides ? installKernelOverrides(spec.tfjsBackend) : [];
  const earlier = results.slice(0, results.indexOf(chosen)).filter((p) => config.prefer.includes(p.name));
  // The probes carry the full story (install commands); the reason only names what came before.
  const reason =
    earlier.length === 0
      ? `first in prefer (${config.prefer.join(', ')})`
      : `first that loaded (${earlier.map((p) => `${p.name} ${p.reason.split(' (')[0]}`).join(', ')})`;
  const selection: BackendSelection = {
    name: chosen.name,
    reason,
    probes: results.map(({ name, available, reason: why }) => ({ name, available, reason: why })),
    capabilities: capabilitiesOf(spec, overrides),
  };
  holder[STATE_KEY] = { key, selection };
  return selection;
}

/** Forget the selection and remove kernel overrides, so tests and benchmarks can select again. */
export function resetBackendSelection(): void {
  removeKernelOverrides();
  holder[STATE_KEY] = undefined;
}

/** The current selection, if any. */
export function currentBackendSelection(): BackendSelection | undefined {
  return holder[STATE_KEY]?.selection;
}
