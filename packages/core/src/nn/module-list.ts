// An indexable list of child modules named '0', '1', ... so that HF keys such as
// `encoder.layers.3.mlp.fc1.weight` come out right. Follows torch.nn.ModuleList
// (torch/nn/modules/container.py), which is a container only and has no forward.

import { MmftError } from '../errors';
import { Module, type AnyModule } from './module';

/**
 * Children named by their index; `get(i)` reads the current child, so a layer replaced through
 * `setModule('layers.0', ...)` is the one returned.
 *
 * @example
 * const layers = new ModuleList([new Linear(4, 4), new Linear(4, 4)]);
 * for (const layer of layers) x = layer.forward(x);
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> implements Iterable<M> {
  private count = 0;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `module` under the next index and returns this list. */
  append(module: M): this {
    this.registerModule(String(this.count), module);
    this.count += 1;
    return this;
  }

  /** The module at `index`; negative indices count from the end, as in Python. */
  get(index: number): M {
    const i = index < 0 ? this.count + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new MmftError('E_CONFIG', `ModuleList index ${index} is out of range for a list of ${this.count} modules`);
    }
    return this.child<M>(String(i));
  }

  /** Number of modules. */
  get length(): number {
    return this.count;
  }

  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.count; i++) yield this.get(i);
  }

  /** A container has no computation of its own: iterate over it instead (as PyTorch does). */
  forward(): never {
    throw new MmftError('E_UNSUPPORTED', 'ModuleList has no forward(); iterate over it and call each module', {
      hint: 'for (const layer of list) x = layer.forward(x)',
    });
  }
}
