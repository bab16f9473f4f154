// What every PEFT wrapper layer shares: several named adapters per layer (PEFT's BaseTunerLayer
// in tuners/tuners_utils.py with its ModuleDict per adapter), switching which are active, and
// turning all off for a base-model forward (`disable_adapter`). Plus the container that holds one
// child per adapter name, so parameter names read `lora_A.default.weight` as in PEFT.
import { MmftError } from '../errors';
import { Module, type AnyModule } from '../nn/module';

/** A module that carries named adapters (LoRA layer, bottleneck wrapper, prefix wrapper...). */
export interface PeftLayer {
  /** Adapter names on this layer, in the order they were added. */
  readonly peftAdapterNames: readonly string[];
  isAdapterActive(name: string): boolean;
  setAdapterActive(name: string, active: boolean): void;
}

/** True for a module implementing PeftLayer. */
export function isPeftLayer(value: unknown): value is PeftLayer & AnyModule {
  const v = value as Partial<PeftLayer> | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.peftAdapterNames) && typeof v.setAdapterActive === 'function';
}

/**
 * Makes exactly `names` active on every PEFT layer of `root` (PEFT's `set_adapter`); a name no
 * layer carries is an error listing the ones that exist.
 *
 * @example
 * setActiveAdapters(model.root, ['style']); // "default" stays loaded but off
 */
export function setActiveAdapters(root: Module, names: string | readonly string[]): void {
  const wanted = typeof names === 'string' ? [names] : names;
  const layers = root
    .namedModules()
    .map(([, m]) => m)
    .filter(isPeftLayer);
  const known = new Set(layers.flatMap((l) => l.peftAdapterNames));
  const unknown = wanted.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new MmftError(
      'E_CONFIG',
      `no adapter named ${unknown.map((n) => `"${n}"`).join(', ')} on this model; loaded: ${[...known].join(', ') || '(none)'}`,
    );
  }
  for (const layer of layers) for (const n of layer.peftAdapterNames) layer.setAdapterActive(n, wanted.includes(n));
}

/**
 * Runs `fn` with every adapter off (a base-model forward, PEFT's `with model.disable_adapter()`),
 * then restores the previous active set, even when `fn` throws.
 *
 * @example
 * const baseLogits = withAdaptersDisabled(model.root, () => model.forward(inputs).logitsPerImage);
 */
export function withAdaptersDisabled<T>(root: Module, fn: () => T): T {
  const layers = root
    .namedModules()
    .map(([, m]) => m)
    .filter(isPeftLayer);
  const before = layers.map((l) => l.peftAdapterNames.filter((n) => l.isAdapterActive(n)));
  for (const layer of layers) for (const n of layer.peftAdapterNames) layer.setAdapterActive(n, false);
  try {
    return fn();
  } finally {
    layers.forEach((layer, i) => before[i]!.forEach((n) => layer.setAdapterActive(n, true)));
  }
}

/**
 * A container with one child per adapter name (PEFT's `nn.ModuleDict`); it has no forward.
 *
 * @example
 * const loraA = new AdapterDict([['default', new Linear(768, 8, { bias: false })]]);
 */
export class AdapterDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  constructor(entries: Iterable<readonly [string, M]> = []) {
    super();
    for (const [name, module] of entries) this.registerModule(name, module);
  }

  get(name: string): M {
    return this.child<M>(name);
  }

  has(name: string): boolean {
    return this.namedChildren().some(([n]) => n === name);
  }

  /** A copy of this container without `name` (modules cannot be unregistered in place). */
  without(name: string): AdapterDict<M> {
    return new AdapterDict(this.namedChildren().filter(([n]) => n !== name) as Array<[string, M]>);
  }

  forward(): never {
    throw new MmftError('E_UNSUPPORTED', 'AdapterDict has no forward(); read one adapter with get(name)');
  }
}

/** Throws unless `name` can be an adapter name (one segment of a dotted path). */
export function assertAdapterName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new MmftError(
      'E_CONFIG',
      `adapter name ${JSON.stringify(name)} is invalid; use letters, digits, "_" or "-" (PEFT's default is "default")`,
    );
  }
}
