// Conformance kit every architecture plugin runs (docs/conventions.md §11), as transformers' shared
// tests/test_modeling_common.py (save_pretrained → from_pretrained equality) and
// test_processing_common.py do for each model: a checkpoint folder round-trips bit-exactly, the
// parameters carry Hugging Face state-dict names, the processor is present and deterministic, its
// towers cover every parameter exactly once, and PEFT finds the projections it declares.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type * as tf from '@tensorflow/tfjs-core';
import type { ArchitectureProvider, VisionLanguageModel } from '../contracts/architecture';
import type { ModelInputs } from '../contracts/model';
import { towersOf } from '../processor/towers';
import { isKebabId } from '../registry/names';
import { resolveModelType } from '../registry/model-types';

/** What the kit needs besides the provider: a tiny checkpoint and what to expect of it. */
export interface ArchitectureFixture {
  /** Writes a tiny checkpoint folder of this architecture (Hugging Face layout) to `dir`. */
  writeCheckpoint(dir: string): Promise<void>;
  /** A few state-dict names the model must have, as transformers names them. */
  readonly parameterNames: readonly string[];
  /** Tower names the processor must declare (e.g. vision, text). */
  readonly towers: readonly string[];
  /** Fixed inputs for a forward pass; the model's outputs must be the same on every call. */
  inputs?(model: VisionLanguageModel): ModelInputs;
  /** Texts the processor's tokenizer encodes (when the model has one). */
  readonly texts?: readonly string[];
  /** Module names PEFT targets (q_proj, v_proj) the architecture declares; each must be a Linear-like module. */
  readonly peftTargets?: readonly string[];
}

const bytesOf = async (t: tf.Tensor): Promise<Buffer> => Buffer.from(((await t.data()) as Float32Array).buffer.slice(0));

async function outputsOf(model: VisionLanguageModel, inputs: ModelInputs): Promise<Record<string, Buffer>> {
  const out = model.forward(inputs);
  const result: Record<string, Buffer> = {};
  for (const [name, t] of Object.entries(out)) result[name] = await bytesOf(t);
  for (const t of Object.values(out)) t.dispose();
  return result;
}

/**
 * Registers the shared architecture tests for `provider`.
 *
 * @example
 * describeArchitecture(clipArchitecture, { writeCheckpoint: (dir) => createTinyClipCheckpoint(dir).then(() => undefined),
 *   parameterNames: ['logit_scale'], towers: ['vision', 'text'], peftTargets: ['q_proj', 'v_proj'] });
 */
export function describeArchitecture<C>(provider: ArchitectureProvider<C>, fixture: ArchitectureFixture): void {
  describe(`architecture conformance: ${provider.id}`, () => {
    let tmp: string | undefined;
    const folder = async (name: string) => {
      tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), `mmft-arch-${provider.id}-`));
      return path.join(tmp, name);
    };
    const load = async (): Promise<VisionLanguageModel> => {
      const dir = await folder('base');
      if (!fs.existsSync(dir)) await fixture.writeCheckpoint(dir);
      return provider.fromPretrained(dir);
    };

    test('manifest: kind architecture, kebab-case id, model types, described config', () => {
      expect(provider.kind).toBe('architecture');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.modelTypes.length).toBeGreaterThan(0);
      expect(provider.description.length).toBeGreaterThan(0);
    });

    test('save → fromPretrained is bit-exact and keeps a model_type this provider resolves', async () => {
      const model = await load();
      try {
        expect(provider.modelTypes).toContain(model.modelType);
        const out = await folder('roundtrip');
        await model.save(out);
        const saved = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { model_type?: string };
        expect(resolveModelType([provider as ArchitectureProvider], String(saved.model_type))).toBe(provider);
        const again = await provider.fromPretrained(out);
        try {
          const [a, b] = [model.root.stateDict(), again.root.stateDict()];
          expect([...b.keys()]).toEqual([...a.keys()]);
          for (const [name, v] of a) expect(await bytesOf(b.get(name)!)).toEqual(await bytesOf(v));
          if (fixture.inputs) expect(await outputsOf(again, fixture.inputs(again))).toEqual(await outputsOf(model, fixture.inputs(model)));
        } finally {
          again.dispose();
        }
      } finally {
        model.dispose();
      }
    });

    test('parameters carry Hugging Face state-dict names', async () => {
      const model = await load();
      try {
        const names = model.root.namedParameters().map(([n]) => n);
        for (const expected of fixture.parameterNames) expect(names).toContain(expected);
        for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/);
      } finally {
        model.dispose();
      }
    });

    test('the processor is present and deterministic; its towers cover every parameter exactly once', async () => {
      const model = await load();
      try {
        const { processor } = model;
        expect(processor).toBeDefined();
        for (const tower of fixture.towers) expect(Object.keys(processor.towers)).toContain(tower);
        const names = model.root.namedParameters().map(([n]) => n);
        const uncovered = names.filter((n) => towersOf(processor.towers, n).length !== 1);
        expect(uncovered).toEqual([]);
        for (const [tower, globs] of Object.entries(processor.towers)) {
          for (const glob of globs)
            expect({ tower, glob, matches: names.some((n) => towersOf({ [tower]: [glob] }, n).length > 0) }).toEqual({
              tower,
              glob,
              matches: true,
            });
        }
        if (processor.tokenizer && fixture.texts) {
          const first = processor.tokenizer.encode(fixture.texts);
          expect(processor.tokenizer.encode(fixture.texts)).toEqual(first);
          expect(
            first.inputIds.every((row) => row.every((id) => Number.isInteger(id) && id >= 0 && id < processor.tokenizer!.vocabSize)),
          ).toBe(true);
          expect(['left', 'right', undefined]).toContain(processor.tokenizer.paddingSide);
        }
        if (processor.imageProcessing) {
          const p = processor.imageProcessing;
          expect(p.size > 0 && p.cropSize > 0 && p.std.every((s) => s > 0)).toBe(true);
        }
        if (fixture.inputs) expect(await outputsOf(model, fixture.inputs(model))).toEqual(await outputsOf(model, fixture.inputs(model)));
      } finally {
        model.dispose();
      }
    });

    if (fixture.peftTargets && fixture.peftTargets.length > 0) {
      test(`PEFT finds ${fixture.peftTargets.join(', ')} as Linear-like modules (a 2-D weight)`, async () => {
        const model = await load();
        try {
          const modules = model.root.namedModules();
          for (const target of fixture.peftTargets!) {
            const found = modules.filter(([n]) => n === target || n.endsWith(`.${target}`));
            expect({ target, found: found.length > 0 }).toEqual({ target, found: true });
            for (const [name, m] of found) {
              const weight = m.namedParameters().find(([p]) => p === 'weight');
              expect({ name, rank: weight?.[1].shape.length }).toEqual({ name, rank: 2 });
            }
          }
        } finally {
          model.dispose();
        }
      });
    }
  });
}
