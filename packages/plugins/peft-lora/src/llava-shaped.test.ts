// LoRA on a LLaVA-shaped toy (vision tower, multi_modal_projector, language model with lm_head):
// "all-linear" selects as PEFT's `_maybe_include_all_linear_layers` does, modules_to_save keeps
// the projector out of LoRA and stores it in the adapter under PEFT's key layout
// (ModulesToSaveWrapper.adapter_state_dict + get_peft_model_state_dict in peft/utils/), and
// loading the adapter restores the trained projector bit for bit.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { isInsideModules, loadAdapter, minimalTargetModules, ModulesToSaveWrapper, saveAdapter } from '@mmft/core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { Linear, Module, ModuleList, registerGradients } from '@mmft/core/nn';
import { LoraLinear } from './layer';
import { loraMethod } from './plugin';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-lora-llava-'));

/** A node of the toy tree; only the projector computes anything. */
class Node extends Module<[tf.Tensor], tf.Tensor> {
  constructor(children: Record<string, Module<never[], never> | Module<[tf.Tensor], tf.Tensor>>) {
    super();
    for (const [name, child] of Object.entries(children)) this.registerModule(name, child);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

/** LlavaMultiModalProjector's shape: linear_2(act(linear_1(x))), relu standing in for gelu. */
class Projector extends Module<[tf.Tensor], tf.Tensor> {
  constructor(seed: number) {
    super();
    this.registerModule('linear_1', new Linear(4, 6, { seed }));
    this.registerModule('linear_2', new Linear(6, 5, { seed: seed + 10 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<Linear>('linear_2').forward(tf.relu(this.child<Linear>('linear_1').forward(x))));
  }
}

/** Hub-layout LLaVA module names: vision_tower.*, multi_modal_projector.*, language_model.model.*, language_model.lm_head. */
function toyLlava(layers: number): Module {
  let seed = 100;
  const lin = (i: number, o: number) => new Linear(i, o, { seed: (seed += 2) });
  const visionLayers = new ModuleList(
    Array.from(
      { length: layers },
      () => new Node({ self_attn: new Node({ q_proj: lin(4, 4), v_proj: lin(4, 4) }), mlp: new Node({ fc1: lin(4, 8) }) }),
    ),
  );
  const lmLayers = new ModuleList(
    Array.from(
      { length: layers },
      () =>
        new Node({
          self_attn: new Node({ q_proj: lin(5, 5), v_proj: lin(5, 5) }),
          mlp: new Node({ gate_proj: lin(5, 7), down_proj: lin(7, 5) }),
        }),
    ),
  );
  return new Node({
    vision_tower: new Node({ encoder: new Node({ layers: visionLayers }) }),
    multi_modal_projector: new Projector(7),
    language_model: new Node({ model: new Node({ layers: lmLayers }), lm_head: lin(5, 11) }),
  });
}

const config = (extra: Record<string, unknown> = {}) =>
  loraMethod.configSchema.parse({
    r: 2,
    lora_alpha: 4,
    target_modules: 'all-linear',
    modules_to_save: ['multi_modal_projector'],
    seed: 1,
    ...extra,
  });

const ONE_LAYER_LINEARS = [
  'vision_tower.encoder.layers.0.self_attn.q_proj',
  'vision_tower.encoder.layers.0.self_attn.v_proj',
  'vision_tower.encoder.layers.0.mlp.fc1',
  'language_model.model.layers.0.self_attn.q_proj',
  'language_model.model.layers.0.self_attn.v_proj',
  'language_model.model.layers.0.mlp.gate_proj',
  'language_model.model.layers.0.mlp.down_proj',
];

describe('all-linear and modules_to_save on a LLaVA-shaped model', () => {
  test('all-linear wraps every Linear except lm_head and the modules_to_save projector (and its Linears)', () => {
    const root = toyLlava(1);
    loraMethod.apply(root, config(), 'default');
    const wrapped = root
      .namedModules()
      .filter(([, m]) => m instanceof LoraLinear)
      .map(([n]) => n);
    expect(wrapped.sort()).toEqual([...ONE_LAYER_LINEARS].sort());
    expect(root.getModule('language_model.lm_head')).toBeInstanceOf(Linear);
    expect(root.getModule('multi_modal_projector')).toBeInstanceOf(ModulesToSaveWrapper);
    expect(root.namedModules().some(([n, m]) => n.startsWith('multi_modal_projector.') && m instanceof LoraLinear)).toBe(false);
  });

  test('a listed target inside modules_to_save is left out, as PEFT does', () => {
    const root = toyLlava(1);
    loraMethod.apply(root, config({ target_modules: ['q_proj', 'linear_1'] }), 'default');
    const wrapped = root
      .namedModules()
      .filter(([, m]) => m instanceof LoraLinear)
      .map(([n]) => n);
    expect(wrapped).toEqual(['vision_tower.encoder.layers.0.self_attn.q_proj', 'language_model.model.layers.0.self_attn.q_proj']);
  });

  test("exclude_modules (PEFT's regex form) keeps all-linear on the language model only; written and read back", async () => {
    const root = toyLlava(1);
    const c = config({ exclude_modules: 'vision_tower\\..*' });
    const applied = loraMethod.apply(root, c, 'default');
    const wrapped = root
      .namedModules()
      .filter(([, m]) => m instanceof LoraLinear)
      .map(([n]) => n);
    expect(wrapped.sort()).toEqual(ONE_LAYER_LINEARS.filter((n) => n.startsWith('language_model.')).sort());
    const dir = tmp();
    await saveAdapter(dir, loraMethod, c, applied);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(json.exclude_modules).toBe('vision_tower\\..*');
    const { applied: loaded } = await loadAdapter(dir, toyLlava(1), [loraMethod]);
    expect([...loaded.adapterStateDict().keys()].sort()).toEqual([...applied.adapterStateDict().keys()].sort());
    // The list form names modules (or suffixes), not their children, as in PEFT.
    const listed = toyLlava(1);
    loraMethod.apply(listed, config({ exclude_modules: ['fc1', 'language_model.model.layers.0.self_attn.q_proj'] }), 'default');
    expect(listed.getModule('vision_tower.encoder.layers.0.mlp.fc1')).toBeInstanceOf(Linear);
    expect(listed.getModule('language_model.model.layers.0.self_attn.q_proj')).toBeInstanceOf(Linear);
    expect(listed.getModule('vision_tower.encoder.layers.0.self_attn.q_proj')).toBeInstanceOf(LoraLinear);
  });

  test('saved tensor names are PEFT layout: lora_A/lora_B without the adapter name, projector copy under its own name', async () => {
    const root = toyLlava(1);
    const c = config();
    const applied = loraMethod.apply(root, c, 'default');
    const expected = [
      ...ONE_LAYER_LINEARS.flatMap((n) => [`base_model.model.${n}.lora_A.weight`, `base_model.model.${n}.lora_B.weight`]),
      'base_model.model.multi_modal_projector.linear_1.weight',
      'base_model.model.multi_modal_projector.linear_1.bias',
      'base_model.model.multi_modal_projector.linear_2.weight',
      'base_model.model.multi_modal_projector.linear_2.bias',
    ];
    expect([...applied.adapterStateDict().keys()].sort()).toEqual(expected.sort());
    const dir = tmp();
    await saveAdapter(dir, loraMethod, c, applied);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    // PEFT writes the names "all-linear" expanded to (before the modules_to_save exclusion).
    expect(json.target_modules).toEqual([...ONE_LAYER_LINEARS, 'multi_modal_projector.linear_1', 'multi_modal_projector.linear_2'].sort());
    expect(json.modules_to_save).toEqual(['multi_modal_projector']);
    expect('exclude_modules' in json).toBe(false); // unset: left out, so PEFT versions without the field read the file
  });

  test('20 or more all-linear targets are written condensed to the shortest suffixes', async () => {
    const root = toyLlava(3); // 3·3 vision + 3·4 language + 2 projector = 23 Linears outside lm_head
    const c = config();
    const applied = loraMethod.apply(root, c, 'default');
    const dir = tmp();
    await saveAdapter(dir, loraMethod, c, applied);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(json.target_modules).toEqual(['down_proj', 'fc1', 'gate_proj', 'linear_1', 'linear_2', 'q_proj', 'v_proj']);
    const again = toyLlava(3);
    const { applied: reloaded } = await loadAdapter(dir, again, [loraMethod]);
    expect([...reloaded.adapterStateDict().keys()].sort()).toEqual([...applied.adapterStateDict().keys()].sort());
  });

  test('loading the adapter restores the trained projector bit-exactly; the original stays as it was', async () => {
    const root = toyLlava(1);
    const c = config();
    const applied = loraMethod.apply(root, c, 'default');
    // Stand-in for training: give every trainable weight new values.
    for (const [i, [, v]] of applied.trainableParameters().entries()) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 50 + i));
    const trained = new Map([...applied.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    const projected = Array.from(root.getModule<Module<[tf.Tensor], tf.Tensor>>('multi_modal_projector').forward(x).dataSync());
    const dir = tmp();
    await saveAdapter(dir, loraMethod, c, applied);

    const fresh = toyLlava(1);
    const before = Array.from(fresh.getModule<Linear>('multi_modal_projector.linear_1').weight.dataSync());
    const { applied: loaded } = await loadAdapter(dir, fresh, [loraMethod]);
    const got = new Map([...loaded.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
    expect(got).toEqual(trained);
    const copy = fresh.getModule<Linear>('multi_modal_projector.modules_to_save.default.linear_1');
    expect(Array.from(copy.weight.dataSync())).toEqual(trained.get('base_model.model.multi_modal_projector.linear_1.weight'));
    expect(Array.from(fresh.getModule<Linear>('multi_modal_projector.original_module.linear_1').weight.dataSync())).toEqual(before);
    expect(Array.from(fresh.getModule<Module<[tf.Tensor], tf.Tensor>>('multi_modal_projector').forward(x).dataSync())).toEqual(projected);
    // The trained copy trains; the frozen original and lm_head do not.
    expect(copy.weight.trainable).toBe(true);
    expect(fresh.getModule<Linear>('multi_modal_projector.original_module.linear_1').weight.trainable).toBe(false);
    expect(fresh.getModule<Linear>('language_model.lm_head').weight.trainable).toBe(false);
  });
});

describe('an adapter saved from the transformers ≥ 4.52 module names', () => {
  // What PEFT writes for a LlavaForConditionalGeneration of transformers ≥ 4.52 (LlavaModel + lm_head):
  // the same tensors under model.language_model.* / model.vision_tower.* / model.multi_modal_projector.*.
  // Restated here from modeling_llava.py's _checkpoint_conversion_mapping, not imported from arch-llava.
  const toNew = (name: string): string =>
    name
      .replace(/^language_model\.model\./, 'model.language_model.')
      .replace(/^(vision_tower|multi_modal_projector)(\.|$)/, 'model.$1$2')
      .replace(/^language_model\.lm_head/, 'lm_head');
  const toHub = (name: string): string =>
    name
      .replace(/^model\.language_model\./, 'language_model.model.')
      .replace(/^model\.(vision_tower|multi_modal_projector)(\.|$)/, '$1$2')
      .replace(/^lm_head/, 'language_model.lm_head');

  test('loads with the model renaming its keys, tensors and listed module names alike', async () => {
    const root = toyLlava(1);
    const c = config();
    const applied = loraMethod.apply(root, c, 'default');
    for (const [i, [, v]] of applied.trainableParameters().entries()) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 30 + i));
    const trained = new Map([...applied.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
    const dir = tmp();
    await saveAdapter(dir, loraMethod, c, applied);
    // Rewrite the file as the newer layout has it.
    const file = path.join(dir, 'adapter_model.safetensors');
    const { tensors } = await readSafetensors(file);
    const strip = (k: string) => k.slice('base_model.model.'.length);
    await writeSafetensors(
      file,
      new Map(
        [...tensors].map(([k, t]) => [
          `base_model.model.${toNew(strip(k))}`,
          { shape: t.shape, dtype: 'F32' as const, data: Float32Array.from(t.data as ArrayLike<number>) },
        ]),
      ),
    );
    const jsonFile = path.join(dir, 'adapter_config.json');
    const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    json.target_modules = json.target_modules.map(toNew);
    fs.writeFileSync(jsonFile, JSON.stringify(json));
    expect(json.target_modules).toContain('model.language_model.layers.0.self_attn.q_proj');

    // Without the renaming the full names select nothing the tree has.
    await expect(loadAdapter(dir, toyLlava(1), [loraMethod])).rejects.toThrow();
    const fresh = toyLlava(1);
    const { applied: loaded } = await loadAdapter(dir, fresh, [loraMethod], { renameKey: toHub });
    const got = new Map([...loaded.adapterStateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
    expect(got).toEqual(trained);

    // A file holding one tensor under both layouts is refused before anything is applied.
    const mixed = new Map(
      [...(await readSafetensors(file)).tensors].map(([k, t]) => [
        k,
        { shape: t.shape, dtype: 'F32' as const, data: Float32Array.from(t.data as ArrayLike<number>) },
      ]),
    );
    const one = [...mixed.keys()].find((k) => k.includes('multi_modal_projector.linear_1.weight'))!;
    mixed.set(`base_model.model.${toHub(strip(one))}`, mixed.get(one)!);
    await writeSafetensors(file, mixed);
    const untouched = toyLlava(1);
    await expect(loadAdapter(dir, untouched, [loraMethod], { renameKey: toHub })).rejects.toThrow(
      /two tensors map to one name of this model/,
    );
    expect(untouched.namedModules().some(([n]) => n.includes('lora_A'))).toBe(false);
  });
});

describe('merge and unload with modules_to_save', () => {
  const train = (root: Module) => {
    const applied = loraMethod.apply(root, config(), 'default');
    for (const [i, [, v]] of applied.trainableParameters().entries()) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 70 + i));
    return applied;
  };

  test("merge then remove puts the trained projector in the original's place (PEFT merge_and_unload)", () => {
    const root = toyLlava(1);
    const applied = train(root);
    const trained = Array.from(root.getModule<Linear>('multi_modal_projector.modules_to_save.default.linear_2').weight.dataSync());
    applied.merge!();
    applied.remove();
    expect(root.getModule('multi_modal_projector')).toBeInstanceOf(Projector);
    expect(Array.from(root.getModule<Linear>('multi_modal_projector.linear_2').weight.dataSync())).toEqual(trained);
    expect(root.namedModules().some(([, m]) => m instanceof LoraLinear || m instanceof ModulesToSaveWrapper)).toBe(false);
  });

  test('remove without merge restores the original projector', () => {
    const root = toyLlava(1);
    const original = Array.from(root.getModule<Linear>('multi_modal_projector.linear_2').weight.dataSync());
    train(root).remove();
    expect(root.getModule('multi_modal_projector')).toBeInstanceOf(Projector);
    expect(Array.from(root.getModule<Linear>('multi_modal_projector.linear_2').weight.dataSync())).toEqual(original);
  });
});

describe('PEFT target helpers', () => {
  test('minimalTargetModules skips suffixes other modules end with (hand-checked)', () => {
    // 'model.decoder.layers.0.q': q, 0.q and layers.0.q also end model.encoder.layers.0.q → decoder.layers.0.q;
    // 'model.encoder.x.q': q is blocked the same way → x.q.
    expect(minimalTargetModules(['model.decoder.layers.0.q', 'model.encoder.x.q'], ['model.encoder.layers.0.q'])).toEqual([
      'decoder.layers.0.q',
      'x.q',
    ]);
    // PEFT's docstring example: 100 q_proj and v_proj of the decoder against the encoder's k_proj.
    const targets = Array.from({ length: 100 }, (_, i) => [
      `model.decoder.layers.${i}.self_attn.q_proj`,
      `model.decoder.layers.${i}.self_attn.v_proj`,
    ]).flat();
    const others = Array.from({ length: 100 }, (_, i) => `model.encoder.layers.${i}.self_attn.k_proj`);
    expect(minimalTargetModules(targets, others)).toEqual(['q_proj', 'v_proj']);
  });

  test('isInsideModules: the module itself, by suffix, and everything below it', () => {
    expect(isInsideModules('multi_modal_projector', ['multi_modal_projector'])).toBe(true);
    expect(isInsideModules('model.multi_modal_projector.linear_1', ['multi_modal_projector'])).toBe(true);
    expect(isInsideModules('multi_modal_projector_extra.linear_1', ['multi_modal_projector'])).toBe(false);
    expect(isInsideModules('language_model.lm_head', null)).toBe(false);
  });
});
