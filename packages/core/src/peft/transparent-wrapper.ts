// A wrapper that takes a module's place without renaming its parameters: it re-registers the
// inner module's own parameters and children under the same names, so `self_attn.q_proj.weight`
// stays `self_attn.q_proj.weight`. Used where PEFT changes no names (prefix tuning hooks
// attention, bottleneck adapters follow a block) and later LoRA must still find `q_proj`.
import { Module, type AnyModule } from '../nn/module';

/**
 * Base class of name-preserving wrappers. Subclasses call `inner()` in `forward` and register
 * their own (adapter) children under names the inner module does not use.
 *
 * @example
 * class Scaled extends TransparentWrapper { forward(x) { return tf.mul(this.inner().forward(x), 2); } }
 * root.setModule('encoder.layers.0.mlp', new Scaled(root.getModule('encoder.layers.0.mlp')));
 */
export abstract class TransparentWrapper<In extends unknown[] = any[], Out = unknown> extends Module<In, Out> {
  private readonly innerModule: AnyModule;
  private readonly innerChildNames: readonly string[];

  constructor(inner: AnyModule) {
    super();
    this.innerModule = inner;
    for (const [name, variable] of inner.namedParameters()) if (!name.includes('.')) this.registerParameter(name, variable);
    const children = inner.namedChildren();
    for (const [name, child] of children) this.registerModule(name, child);
    this.innerChildNames = children.map(([name]) => name);
  }

  /**
   * The wrapped module, with any child replaced through this wrapper's path since (LoRA on
   * `self_attn.q_proj` after prefix tuning wrapped `self_attn`) pushed down into it first.
   */
  inner<M extends AnyModule = AnyModule>(): M {
    for (const name of this.innerChildNames) {
      const mine = this.child(name);
      if (this.innerModule.child(name) !== mine) this.innerModule.setModule(name, mine);
    }
    this.innerModule.training = this.training;
    return this.innerModule as M;
  }
}
