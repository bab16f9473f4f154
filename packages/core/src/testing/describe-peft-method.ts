// Conformance kit every PEFT method plugin runs (docs/conventions.md §11; PEFT's shared test matrix in
// tests/testing_common.py): identity at init (or, for methods that cannot start as the base, an
// exact base forward when disabled), the trainable set exactly as configured with gradients only
// for it, save → load bit-exact in PEFT's file layout, merge equality, errors, no tensor leak.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { PeftMethodProvider } from '../contracts/peft';
import { isMmftError } from '../errors';
import type { Module } from '../nn/module';
import { loadAdapter, readAdapterConfig, saveAdapter } from '../peft/adapter-files';
import { withAdaptersDisabled } from '../peft/peft-layer';
import { describeTrainable } from '../peft/trainable';
import { isKebabId } from '../registry/names';

/** A model under test and a deterministic forward over fixed inputs. */
export interface PeftSubject {
  readonly root: Module;
  forward(): tf.Tensor;
  dispose(): void;
}

/** One configuration of the method to check. */
export interface PeftConformanceCase {
  readonly name: string;
  /** The recipe section without `method`. */
  readonly config: unknown;
  /** Builds the same model (same weights) on every call. */
  makeSubject(): PeftSubject | Promise<PeftSubject>;
  /** True for exactly the parameter names that must train after apply. */
  readonly expectTrainable: (name: string) => boolean;
  /** The adapted model computes exactly what the base does right after apply (LoRA, adapters). */
  readonly identityAtInit: boolean;
  /** The method supports merge/unmerge. */
  readonly mergeable?: boolean;
}

const values = (t: tf.Tensor): number[] => {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
};

/** Sets every trainable parameter to seeded noise, so round trips and merges test real values. */
function perturb(params: ReadonlyArray<readonly [string, tf.Variable]>): void {
  params.forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 1000 + i))));
}

/**
 * Registers the shared PEFT tests for `provider` and each case.
 *
 * @example
 * describePeftMethod(loraMethod, [{ name: 'toy q/v', config: { r: 2 }, makeSubject, expectTrainable: (n) => n.includes('lora_'), identityAtInit: true, mergeable: true }]);
 */
export function describePeftMethod<C>(provider: PeftMethodProvider<C>, cases: readonly PeftConformanceCase[]): void {
  describe(`PEFT conformance: ${provider.id}`, () => {
    test('manifest: kind peft, kebab-case id, upper-case peftType, description', () => {
      expect(provider.kind).toBe('peft');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.peftType).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(provider.description.length).toBeGreaterThan(0);
    });

    for (const c of cases) {
      const apply = (root: Module, name = 'default') => provider.apply(root, provider.configSchema.parse(c.config), name);

      test(`${c.name}: ${c.identityAtInit ? 'identity at init' : 'changes the output'}; disabled gives the base exactly`, async () => {
        const s = await c.makeSubject();
        const base = values(s.forward());
        const applied = apply(s.root);
        const adapted = values(s.forward());
        if (c.identityAtInit) expect(adapted).toEqual(base);
        else expect(adapted).not.toEqual(base);
        expect(values(withAdaptersDisabled(s.root, () => s.forward()))).toEqual(base);
        applied.setEnabled(false);
        expect(values(s.forward())).toEqual(base);
        applied.setEnabled(true);
        expect(values(s.forward())).toEqual(adapted);
        s.dispose();
      });

      test(`${c.name}: trainable set exactly as configured; gradients only for it`, async () => {
        const s = await c.makeSubject();
        const applied = apply(s.root);
        const trainable = s.root
          .namedParameters()
          .filter(([, v]) => v.trainable)
          .map(([n]) => n)
          .sort();
        expect(trainable.length).toBeGreaterThan(0);
        expect(
          applied
            .trainableParameters()
            .map(([n]) => n)
            .sort(),
        ).toEqual(trainable);
        expect(
          s.root
            .namedParameters()
            .map(([n]) => n)
            .filter(c.expectTrainable)
            .sort(),
        ).toEqual(trainable);
        const summary = describeTrainable(s.root);
        expect(summary.trainable).toBe(applied.trainableParameters().reduce((sum, [, v]) => sum + v.size, 0));
        expect(summary.line).toMatch(/^trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/);
        const vars = s.root.trainableParameters();
        const before = tf.memory().numTensors;
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(s.forward())) as tf.Scalar, vars);
        expect(Object.keys(grads).sort()).toEqual(vars.map((v) => v.name).sort());
        tf.dispose([value, ...Object.values(grads)]);
        expect(tf.memory().numTensors).toBe(before);
        s.dispose();
      });

      test(`${c.name}: save → load in PEFT layout is bit-exact`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mmft-peft-${provider.id}-`));
        const s = await c.makeSubject();
        const config = provider.configSchema.parse(c.config);
        const applied = provider.apply(s.root, config, 'default');
        perturb(applied.trainableParameters());
        const expected = values(s.forward());
        await saveAdapter(dir, provider, config, applied, { baseModelNameOrPath: 'base' });
        const json = await readAdapterConfig(dir);
        expect(json.peft_type).toBe(provider.peftType);
        expect(json.base_model_name_or_path).toBe('base');
        const saved = new Map([...applied.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
        const fresh = await c.makeSubject();
        const { applied: loaded } = await loadAdapter(dir, fresh.root, [provider as PeftMethodProvider]);
        expect(new Map([...loaded.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]))).toEqual(saved);
        expect(values(fresh.forward())).toEqual(expected);
        s.dispose();
        fresh.dispose();
      });

      test(`${c.name}: unknown tensor keys and a config of another method are clear errors`, async () => {
        const s = await c.makeSubject();
        const applied = apply(s.root);
        const extra = new Map(applied.adapterStateDict());
        const stray = tf.zeros([2]);
        extra.set('base_model.model.no_such_module.lora_A.weight', stray);
        expect(() => applied.loadAdapterStateDict(extra)).toThrow(/unknown keys \(1\): base_model\.model\.no_such_module/);
        stray.dispose();
        let error: unknown;
        try {
          provider.fromAdapterConfig({ peft_type: 'SOMETHING_ELSE' }, 'x/adapter_config.json');
        } catch (e) {
          error = e;
        }
        expect(isMmftError(error) && error.code === 'E_CONFIG' && /x\/adapter_config\.json.*SOMETHING_ELSE/.test(error.message)).toBe(true);
        s.dispose();
      });

      if (c.mergeable) {
        test(`${c.name}: merged forward equals unmerged within 1e-5; unmerge restores`, async () => {
          const s = await c.makeSubject();
          const applied = apply(s.root);
          perturb(applied.trainableParameters());
          const unmerged = values(s.forward());
          applied.merge!();
          const merged = values(s.forward());
          applied.unmerge!();
          const back = values(s.forward());
          unmerged.forEach((v, i) => {
            expect(Math.abs(merged[i]! - v)).toBeLessThanOrEqual(1e-5);
            expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(1e-5);
          });
          s.dispose();
        });
      }

      test(`${c.name}: apply, forward, remove leaks no tensor and restores the base`, async () => {
        const s = await c.makeSubject();
        const base = values(s.forward());
        const before = tf.memory().numTensors;
        const names = s.root.namedParameters().map(([n]) => n);
        const applied = apply(s.root);
        values(s.forward());
        applied.remove();
        expect(tf.memory().numTensors).toBe(before);
        expect(s.root.namedParameters().map(([n]) => n)).toEqual(names);
        expect(values(s.forward())).toEqual(base);
        s.dispose();
      });
    }
  });
}
