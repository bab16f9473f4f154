// PEFT's `modules_to_save`: a fully trained copy of a module (a classification head, a
// projection) kept per adapter beside the frozen original, as ModulesToSaveWrapper in
// peft/utils/other.py. Names follow PEFT: `<path>.original_module.*` and
// `<path>.modules_to_save.<adapter>.*`; files store the copy under the plain `<path>.*`.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type AnyModule } from '../nn/module';
import { uniqueVariableName } from '../nn/naming';
import { AdapterDict, type PeftLayer } from './peft-layer';
import { findTargetModules } from './targeting';

type Internals = { params: Map<string, tf.Variable>; children: Map<string, AnyModule> };

/**
 * A deep copy of a module: same class and settings, fresh variables holding copies of the values.
 * Relies on modules reading children through `child()` (never cached fields), as nn/ requires.
 *
 * @example
 * const head = cloneModule(model.root.getModule('visual_projection'));
 */
export function cloneModule<M extends AnyModule>(module: M): M {
  const copy = Object.create(Object.getPrototypeOf(module)) as M;
  Object.assign(copy, module);
  const source = module as unknown as Internals;
  const target = copy as unknown as Internals;
  target.params = new Map([...source.params].map(([name, v]) => [name, tf.variable(v, v.trainable, uniqueVariableName(`clone.${name}`))]));
  target.children = new Map([...source.children].map(([name, child]) => [name, cloneModule(child)]));
  return copy;
}

/** Forwards to the active adapter's trained copy, or to the original when none is active. */
export class ModulesToSaveWrapper extends Module implements PeftLayer {
  private readonly active = new Set<string>();

  constructor(original: AnyModule) {
    super();
    this.registerModule('original_module', original);
    this.registerModule('modules_to_save', new AdapterDict());
  }

  get peftAdapterNames(): string[] {
    return this.child<AdapterDict>('modules_to_save')
      .namedChildren()
      .map(([n]) => n);
  }

  isAdapterActive(name: string): boolean {
    return this.active.has(name);
  }

  setAdapterActive(name: string, active: boolean): void {
    if (active) this.active.add(name);
    else this.active.delete(name);
  }

  /** Adds a trainable copy for `adapterName` and makes it the active one. */
  addCopy(adapterName: string): AnyModule {
    const copy = cloneModule(this.child('original_module'));
    this.child<AdapterDict>('modules_to_save').registerModule(adapterName, copy);
    this.active.clear();
    this.active.add(adapterName);
    return copy;
  }

  /**
   * Drops `adapterName`'s copy; returns true when no copy is left. With `keep`, the copy becomes
   * the original module (the old original is disposed), as PEFT's merge_and_unload puts the trained
   * copy in the wrapper's place; otherwise the copy is disposed.
   */
  removeCopy(adapterName: string, keep = false): boolean {
    const dict = this.child<AdapterDict>('modules_to_save');
    if (dict.has(adapterName)) {
      const copy = dict.get(adapterName);
      if (keep) {
        this.child('original_module').dispose();
        this.setModule('original_module', copy);
      } else copy.dispose();
    }
    this.setModule('modules_to_save', dict.without(adapterName));
    this.active.delete(adapterName);
    return this.peftAdapterNames.length === 0;
  }

  forward(...args: unknown[]): unknown {
    const names = this.peftAdapterNames.filter((n) => this.active.has(n));
    const target =
      names.length > 0 ? this.child<AdapterDict>('modules_to_save').get(names[names.length - 1]!) : this.child('original_module');
    return target.forward(...args);
  }
}

/** What `applyModulesToSave` did, to save and undo it. */
export interface SavedModules {
  /** Tree path of each wrapped module → the adapter's copy. */
  readonly copies: ReadonlyMap<string, AnyModule>;
  /**
   * Removes the copies; restores the original module where no other adapter keeps a copy. With
   * `keepTrained` (merge and unload), each trained copy replaces its original instead.
   */
  remove(options?: { keepTrained?: boolean }): void;
}

/**
 * Wraps each module named by `keys` (PEFT suffix rules) and adds a trained copy for
 * `adapterName`. The copies' parameters are trainable; the originals stay as they were.
 *
 * @example
 * const saved = applyModulesToSave(model.root, ['text_projection'], 'default', 'lora');
 */
export function applyModulesToSave(root: Module, keys: readonly string[] | undefined, adapterName: string, method: string): SavedModules {
  const copies = new Map<string, AnyModule>();
  if (!keys || keys.length === 0) return { copies, remove: () => undefined };
  const isInsideWrapper = (name: string) => /(^|\.)(original_module|modules_to_save)(\.|$)/.test(name);
  for (const [path, module] of findTargetModules(root, keys, { method: `${method} modules_to_save`, skip: isInsideWrapper })) {
    const wrapper = module instanceof ModulesToSaveWrapper ? module : new ModulesToSaveWrapper(module);
    if (wrapper !== module) root.setModule(path, wrapper);
    const copy = wrapper.addCopy(adapterName);
    for (const [, v] of copy.namedParameters()) v.trainable = true;
    copies.set(path, copy);
  }
  return {
    copies,
    remove(options = {}) {
      for (const path of copies.keys()) {
        const wrapper = root.getModule<ModulesToSaveWrapper>(path);
        if (wrapper.removeCopy(adapterName, options.keepTrained ?? false)) root.setModule(path, wrapper.child('original_module'));
      }
    },
  };
}
