// The base of every layer and model: a tree of named parameters (tf.Variable) and child modules
// whose dotted names equal Hugging Face state-dict keys. Follows torch.nn.Module
// (torch/nn/modules/module.py): registration order, train/eval, state_dict/load_state_dict.

import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import type { Initializer } from './init';
import { assertLocalName, notFound, setTrainable, uniqueVariableName, type NamePattern } from './naming';
import {
  loadStateDictInto,
  toStateDictSource,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDictInput,
  type StateDictSource,
} from './state-dict';

/** Any module, whatever its forward signature (`any[]` so every subclass is assignable). */
export type AnyModule = Module<any[], unknown>;

/**
 * A named tree of parameters and child modules. Subclasses register what they own in the
 * constructor and read children back through `child(name)` in `forward`, never from a cached
 * field, so that `setModule` (PEFT wrapping a Linear) takes effect.
 *
 * @example
 * class Mlp extends Module<[tf.Tensor], tf.Tensor> {
 *   constructor() { super(); this.registerModule('fc1', new Linear(4, 8)); }
 *   forward(x: tf.Tensor) { return this.child<Linear>('fc1').forward(x); }
 * }
 */
export abstract class Module<In extends unknown[] = any[], Out = unknown> {
  /** Training mode (dropout active); set it through `train()` / `eval()` so children follow. */
  training = true;
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, AnyModule>();

  abstract forward(...args: In): Out;

  /** Adds `variable` as parameter `name` of this module and returns it. */
  registerParameter(name: string, variable: tf.Variable): tf.Variable {
    this.assertFreeName(name, 'parameter');
    this.params.set(name, variable);
    return variable;
  }

  /** Creates a uniquely named variable from `init(shape, seed)` and registers it. */
  createParameter(
    name: string,
    shape: readonly number[],
    init: Initializer,
    options: { seed?: number; trainable?: boolean } = {},
  ): tf.Variable {
    this.assertFreeName(name, 'parameter');
    const initial = init(shape, options.seed);
    try {
      const variableName = uniqueVariableName(`${this.constructor.name}.${name}`);
      return this.registerParameter(name, tf.variable(initial, options.trainable ?? true, variableName));
    } finally {
      initial.dispose(); // the variable holds its own reference to the data
    }
  }

  /** Adds `child` as sub-module `name` and returns it. */
  registerModule<M extends AnyModule>(name: string, child: M): M {
    this.assertFreeName(name, 'module');
    this.children.set(name, child);
    return child;
  }

  /**
   * Takes parameter `name` out of the tree (state dict, optimizer, counts) without disposing it,
   * and returns a function that puts a variable back in the same place: a layer that holds the
   * weight in another form meanwhile (Linear's 16-bit storage of a frozen weight) uses it.
   */
  protected detachParameter(name: string): { variable: tf.Variable; reattach: (variable: tf.Variable) => void } {
    const variable = this.param(name);
    const index = [...this.params.keys()].indexOf(name);
    this.params.delete(name);
    const reattach = (replacement: tf.Variable) => {
      const entries = [...this.params];
      entries.splice(index, 0, [name, replacement]);
      this.params.clear();
      for (const [key, value] of entries) this.params.set(key, value);
    };
    return { variable, reattach };
  }

  /** This module's own parameter `name`. */
  param(name: string): tf.Variable {
    const variable = this.params.get(name);
    if (!variable) throw notFound(this.constructor.name, 'parameter', name, this.params.keys());
    return variable;
  }

  /** True when this module has its own parameter `name`. */
  hasParam(name: string): boolean {
    return this.params.has(name);
  }

  /** This module's direct child `name`, read at call time so replacements are seen. */
  child<M extends AnyModule = AnyModule>(name: string): M {
    const found = this.children.get(name);
    if (!found) throw notFound(this.constructor.name, 'child module', name, this.children.keys());
    return found as M;
  }

  /** Direct children in registration order. */
  namedChildren(): Array<[string, AnyModule]> {
    return [...this.children];
  }

  /** This module ('' or `prefix`) and all descendants, pre-order, with dotted names. */
  namedModules(prefix = ''): Array<[string, AnyModule]> {
    const out: Array<[string, AnyModule]> = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every parameter with its dotted (HF state-dict) name; a tied variable is listed once. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const seen = new Set<tf.Variable>();
    return this.allParameters(prefix).filter(([, v]) => {
      if (seen.has(v)) return false;
      seen.add(v);
      return true;
    });
  }

  /** The parameters whose `trainable` flag is set (the optimizer's var list). */
  trainableParameters(): tf.Variable[] {
    return this.namedParameters()
      .filter(([, v]) => v.trainable)
      .map(([, v]) => v);
  }

  /** Number of scalar weights, tied variables counted once. */
  parameterCount(options: { trainableOnly?: boolean } = {}): number {
    return this.namedParameters()
      .filter(([, v]) => !options.trainableOnly || v.trainable)
      .reduce((sum, [, v]) => sum + v.size, 0);
  }

  /** The module at a dotted path ('' is this module); `type` checks the class. */
  getModule<M extends AnyModule = AnyModule>(path: string, type?: abstract new (...args: never[]) => M): M {
    const found = path === '' ? this : this.namedModules().find(([name]) => name === path)?.[1];
    if (!found) throw notFound(this.constructor.name, 'module', path, this.moduleNames());
    if (type && !(found instanceof type)) {
      throw new MmftError('E_CONFIG', `module "${path}" is a ${found.constructor.name}, not a ${type.name}`);
    }
    return found as M;
  }

  /**
   * Replaces the module at a dotted path, keeping its place in the order, and puts the
   * replacement in the parent's train/eval mode; returns the old module (PEFT wraps it).
   */
  setModule(path: string, replacement: AnyModule): AnyModule {
    const cut = path.lastIndexOf('.');
    const parent = cut < 0 ? this : this.getModule(path.slice(0, cut));
    const name = path.slice(cut + 1);
    const old = parent.children.get(name);
    if (!old) throw notFound(this.constructor.name, 'module', path, this.moduleNames());
    parent.children.set(name, replacement);
    replacement.train(parent.training);
    return old;
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Marks matching parameters non-trainable; returns their names. Matching nothing is an error. */
  freeze(pattern: NamePattern = '**'): string[] {
    return setTrainable(this.namedParameters(), pattern, false, this.constructor.name);
  }

  /** Marks matching parameters trainable; returns their names. Matching nothing is an error. */
  unfreeze(pattern: NamePattern = '**'): string[] {
    return setTrainable(this.namedParameters(), pattern, true, this.constructor.name);
  }

  /** Name → variable for every parameter, tied ones under each name (no copies). */
  stateDict(): Map<string, tf.Variable> {
    return new Map(this.allParameters(''));
  }

  /**
   * Assigns tensors by name (cast to each variable's dtype); see LoadStateDictOptions for
   * strictness. Given tensors stay owned by the caller; a StateDictSource loads lazily.
   */
  loadStateDict(source: StateDictInput | StateDictSource, options: LoadStateDictOptions = {}): LoadStateDictResult {
    return loadStateDictInto(this.stateDict(), toStateDictSource(source), options, this.constructor.name);
  }

  /** Frees every variable of the tree; the module is unusable afterwards. */
  dispose(): void {
    for (const [, v] of this.namedParameters()) if (!v.isDisposed) v.dispose();
  }

  private moduleNames(): string[] {
    return this.namedModules()
      .map(([name]) => name)
      .filter((name) => name !== '');
  }

  private allParameters(prefix: string): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, v] of m.params) out.push([path ? `${path}.${name}` : name, v]);
    }
    return out;
  }

  private assertFreeName(name: string, kind: 'parameter' | 'module'): void {
    assertLocalName(name, kind, this.constructor.name);
    if (this.params.has(name) || this.children.has(name)) {
      const owner = this.constructor.name;
      throw new MmftError('E_CONFIG', `${owner}: "${name}" is already registered; every parameter and child needs its own name`);
    }
  }
}
