// `mmft import` on outputs built the way the engines write them, from the tiny real LLaVA of
// models/llava-shapes-base (no training): a LoRA adapter with the projector in modules_to_save, saved
// by mmft, its keys renamed into the transformers ≥ 4.52 layout (base_model.model.model.language_model.…)
// and its tensors written as BF16, placed as LLaMA-Factory (output/checkpoint-<N>, trainer_log.jsonl,
// a bundle manifest) and ms-swift (output/v<N>-<time>/checkpoint-<N>/args.json, regex target_modules)
// leave them; and a sharded BF16 full checkpoint. The imported adapter must compute exactly what the
// original adapter computes with its values rounded to bf16 (rounded here, by the test's own code).
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, loadAdapter, parseConfig, saveAdapter, type PluginRegistry } from '@mmft/core';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { createCliContext } from '../context';
import { importCommand } from './import';
import { exportCommand } from './export';
import { generateCommand } from './generate';
import { runCommands, writeTestPng } from './fixtures.test-helper';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/arch-clip',
  '@mmft/arch-llama',
  '@mmft/arch-llava',
  '@mmft/peft-lora',
  '@mmft/exporter-onnx',
];
const BASE = path.resolve(__dirname, '../../../../models/llava-shapes-base');
const IMAGE_TOKEN = 654; // config.json image_token_index; image_seq_length 65
let tmp: string;
let registry: PluginRegistry;

/** float32 → nearest bf16 (ties to even), written independently of core's io/half.ts. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function roundBf16(x: number): number {
  const [f, u] = [f32, u32];
  f[0] = x;
  const bits = u[0]!;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  u[0] = (Math.floor(rounded / 0x10000) * 0x10000) >>> 0;
  return f[0]!;
}

/** Hub-layout LLaVA module path → transformers ≥ 4.52's (LlavaModel nests the towers under model.). */
function newerLayout(module: string): string {
  if (module.startsWith('language_model.model.')) return `model.language_model.${module.slice('language_model.model.'.length)}`;
  if (module.startsWith('language_model.lm_head')) return module.slice('language_model.'.length);
  if (/^(vision_tower|multi_modal_projector)\./.test(module)) return `model.${module}`;
  return module;
}
const newerKey = (key: string) => `base_model.model.${newerLayout(key.slice('base_model.model.'.length))}`;

const run = (argv: string[]) =>
  runCommands((ctx) => [importCommand(ctx), exportCommand(ctx), generateCommand(ctx)], argv, { cwd: tmp, builtins: BUILTINS });

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

/** Writes an adapter folder from `tensors` (name → values/shape) as `dtype`, with `config`. */
async function writeAdapter(dir: string, config: Record<string, unknown>, tensors: Map<string, WritableTensor>): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  write(path.join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2));
}

async function loadBase() {
  const architecture = registry.resolveModelType('llava', {});
  return architecture.fromPretrained(BASE, {}, architectureContext(registry));
}

/** Next-token logits of the model (+ adapter) on one image and a few text tokens; pixels fixed by seed. */
function logitsOf(model: { forward(i: object): unknown }): number[] {
  return tf.tidy(() => {
    const ids = [1, ...Array<number>(65).fill(IMAGE_TOKEN), 40, 41, 42];
    const inputIds = tf.tensor2d([ids], undefined, 'int32');
    const pixelValues = tf.randomUniform([1, 3, 64, 64], -1, 1, 'float32', 5);
    const { logits } = model.forward({ inputIds, pixelValues }) as { logits: tf.Tensor };
    return Array.from(logits.dataSync());
  });
}

let base: Awaited<ReturnType<typeof loadBase>>;

/** Logits of the shared base with the adapter in `adapterDir` applied (then removed again). */
async function logitsWith(adapterDir: string | undefined): Promise<number[]> {
  if (!adapterDir) return logitsOf(base);
  const { applied } = await loadAdapter(adapterDir, base.root, registry.list('peft'), { renameKey: base.checkpointKeyName?.bind(base) });
  try {
    return logitsOf(base);
  } finally {
    applied.remove();
  }
}

let original: { config: Record<string, unknown>; tensors: Map<string, { data: Float32Array; shape: number[] }> };

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-import-'));
  registry = await createCliContext({ builtins: BUILTINS }).createRegistry();
  const backend = registry.list('backend').find((b) => b.id === 'tfjs')!;
  await backend.select(parseConfig(backend, {}));
  // The adapter an engine would have trained: LoRA on the language model's Linears, projector saved whole.
  const model = await loadBase();
  const lora = registry.list('peft').find((p) => p.id === 'lora')!;
  const config = parseConfig(lora, {
    r: 2,
    lora_alpha: 4,
    target_modules: 'all-linear',
    exclude_modules: 'vision_tower\\..*',
    modules_to_save: ['multi_modal_projector'],
    seed: 0,
  });
  const applied = lora.apply(model.root, config, 'default');
  applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', i)))));
  await saveAdapter(path.join(tmp, 'mmft-adapter'), lora, config, applied, { baseModelNameOrPath: BASE });
  applied.remove();
  base = model;
  const { tensors } = await readSafetensors(path.join(tmp, 'mmft-adapter', 'adapter_model.safetensors'));
  original = {
    config: JSON.parse(fs.readFileSync(path.join(tmp, 'mmft-adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>,
    tensors: new Map([...tensors].map(([k, t]) => [k, { data: Float32Array.from(t.data as Float32Array), shape: [...t.shape] }])),
  };
  // The reference: the same adapter in mmft's own layout, F32, values rounded to bf16 here.
  await writeAdapter(
    path.join(tmp, 'reference'),
    original.config,
    new Map([...original.tensors].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data.map(roundBf16) }] as const)),
  );
});

afterAll(() => {
  base.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The original adapter as an engine on transformers ≥ 4.52 saves it: renamed keys, BF16. */
function engineTensors(extra: ReadonlyArray<[string, WritableTensor]> = []): Map<string, WritableTensor> {
  return new Map<string, WritableTensor>([
    ...[...original.tensors].map(([k, t]) => [newerKey(k), { dtype: 'BF16', shape: t.shape, data: t.data }] as [string, WritableTensor]),
    ...extra,
  ]);
}

/** target_modules as LLaMA-Factory's patch_target_modules leaves them: full module names of the newer layout. */
function factoryTargets(): string[] {
  const modules = [...original.tensors.keys()]
    .filter((k) => k.includes('.lora_A.'))
    .map((k) => k.slice('base_model.model.'.length, -'.lora_A.weight'.length));
  return modules.map(newerLayout).sort();
}

describe('mmft import: adapters', () => {
  test('LLaMA-Factory bundle output: newest checkpoint, base from mmft-handoff.json, BF16 + newer layout land; same logits as the bf16-rounded adapter', async () => {
    const bundle = path.join(tmp, 'bundle');
    write(
      path.join(bundle, 'mmft-handoff.json'),
      JSON.stringify({
        format: 'mmft-handoff',
        recipeFile: path.join(bundle, 'r.yaml'),
        target: { id: 'llamafactory', engine: 'LLaMA-Factory' },
        output: 'output',
        model: { path: BASE, localPath: BASE, modelType: 'llava' },
      }),
    );
    const config = {
      ...original.config,
      base_model_name_or_path: 'llava-hf/llava-1.5-7b-hf',
      target_modules: factoryTargets(),
      exclude_modules: null,
    };
    for (const step of [2, 4]) {
      await writeAdapter(path.join(bundle, 'output', `checkpoint-${step}`), config, engineTensors());
      write(
        path.join(bundle, 'output', `checkpoint-${step}`, 'trainer_state.json'),
        JSON.stringify({ global_step: step, log_history: [] }),
      );
    }
    write(path.join(bundle, 'output', 'trainer_log.jsonl'), '{"current_steps": 4}\n');

    const r = await run(['import', 'bundle', '--out', 'imported']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.shift()).toBe('bundle: mmft-handoff.json says the engine writes into output/');
    expect(lines[0]).toBe('import: bundle/output/checkpoint-4 (took the newest checkpoint, checkpoint-4)');
    expect(lines[1]).toBe(`engine: LLaMA-Factory (bundle/output/trainer_log.jsonl, bundle/mmft-handoff.json)`);
    const count = original.tensors.size;
    expect(r.stdout).toContain(
      `checked: ${count} tensors (${count} BF16) of a lora adapter land on llava ${BASE} (base from mmft-handoff.json model.localPath)`,
    );
    expect(r.stdout).toContain(`mmft eval recipe bundle/r.yaml --adapter imported`);
    expect(r.stdout).toContain(`mmft serve ${BASE} --adapter imported`);

    const out = path.join(tmp, 'imported');
    // The engine's bytes, unchanged.
    for (const f of ['adapter_model.safetensors', 'adapter_config.json'])
      expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(bundle, 'output', 'checkpoint-4', f)))).toBe(true);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'import.json'), 'utf8'));
    const values = [...original.tensors.values()].reduce((n, t) => n + t.data.length, 0);
    expect(record).toMatchObject({
      kind: 'adapter',
      engine: 'LLaMA-Factory',
      checkpoint: 'checkpoint-4',
      step: 4,
      base: { path: BASE, from: 'mmft-handoff.json model.localPath' },
      rewritten: null,
      checked: { tensors: count, adapter_parameters: values, dtypes: { BF16: count }, method: 'lora' },
    });
    // Trainable with the adapter on = LoRA A/B + the projector copy = the values in the file.
    expect(record.checked.trainable_parameters).toBe(values);

    const [imported, reference, unrounded] = [
      await logitsWith(out),
      await logitsWith(path.join(tmp, 'reference')),
      await logitsWith(path.join(tmp, 'mmft-adapter')),
    ];
    expect(imported).toEqual(reference);
    expect(imported).not.toEqual(unrounded); // the rounding is visible, so the equality above says something
    expect(imported).not.toEqual(await logitsWith(undefined));
  });

  test('ms-swift layout: newest v<N>, then newest checkpoint by number; regex target_modules listed; base from args.json; --checkpoint', async () => {
    const root = path.join(tmp, 'swift-out');
    const regex = '^(model\\.language_model(?=\\.).*\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj))$';
    const config = {
      ...original.config,
      base_model_name_or_path: 'llava-hf/llava-1.5-7b-hf',
      target_modules: regex,
      exclude_modules: null,
    };
    for (const ckpt of ['v0-20261207-101010/checkpoint-2', 'v1-20261207-121212/checkpoint-4', 'v1-20261207-121212/checkpoint-10']) {
      await writeAdapter(path.join(root, ckpt), config, engineTensors());
      write(path.join(root, ckpt, 'args.json'), JSON.stringify({ model: BASE, tuner_type: 'lora' }));
    }
    const r = await run(['import', 'swift-out', '--out', 'swift-imported']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      'import: swift-out/v1-20261207-121212/checkpoint-10 (took the newest ms-swift run v1-20261207-121212 and its newest checkpoint, v1-20261207-121212/checkpoint-10)',
    );
    expect(r.stdout).toContain('engine: ms-swift (swift-out/v1-20261207-121212/checkpoint-10/args.json)');
    expect(r.stdout).toContain('(base from args.json model)');
    const out = path.join(tmp, 'swift-imported');
    const written = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(written.target_modules).toEqual(factoryTargets());
    expect(JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.source.json'), 'utf8')).target_modules).toBe(regex);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'import.json'), 'utf8')).rewritten.target_modules.from).toBe(regex);
    expect(await logitsWith(out)).toEqual(await logitsWith(path.join(tmp, 'reference')));

    const picked = await run(['import', 'swift-out', '--checkpoint', 'checkpoint-2', '--out', 'swift-2', '--no-check']);
    expect(picked.stdout).toContain(
      'import: swift-out/v0-20261207-101010/checkpoint-2 (took v0-20261207-101010/checkpoint-2 (--checkpoint))',
    );
    const missing = await run(['import', 'swift-out', '--checkpoint', 'checkpoint-7', '--out', 'swift-7']);
    expect(missing.stderr).toBe(`--checkpoint checkpoint-7: no adapter or model folder of that name under ${root}`);
    expect(missing.hint).toBe(
      'checkpoints there: v1-20261207-121212/checkpoint-10, v1-20261207-121212/checkpoint-4, v0-20261207-101010/checkpoint-2',
    );
  });

  test('a tensor the model does not have fails with its key named, and --out is not written', async () => {
    const dir = path.join(tmp, 'bad', 'checkpoint-1');
    const bogus = 'base_model.model.model.language_model.layers.0.self_attn.qq_proj.lora_A.weight';
    await writeAdapter(
      dir,
      { ...original.config, target_modules: factoryTargets() },
      engineTensors([[bogus, { dtype: 'BF16', shape: [2, 128], data: new Float32Array(256) }]]),
    );
    const r = await run(['import', 'bad', '--out', 'bad-imported', '--base', BASE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown keys (1): base_model.model.language_model.model.layers.0.self_attn.qq_proj.lora_A.weight');
    expect(r.stderr).toContain(path.join('adapter_model.safetensors'));
    expect(fs.existsSync(path.join(tmp, 'bad-imported'))).toBe(false);
  });

  test('no way to find the base is an error naming the three ways; --no-check copies without one', async () => {
    await writeAdapter(
      path.join(tmp, 'nobase'),
      { ...original.config, base_model_name_or_path: 'llava-hf/llava-1.5-7b-hf' },
      engineTensors(),
    );
    const r = await run(['import', 'nobase', '--out', 'nobase-imported']);
    expect(r.stderr).toBe(
      `${path.join(tmp, 'nobase')}: cannot find the base model this adapter belongs to (adapter_config.json base_model_name_or_path = llava-hf/llava-1.5-7b-hf: not a local model folder)`,
    );
    expect(r.hint).toMatch(
      /^pass --base <model-dir>; or import from inside the bundle `mmft handoff` wrote .*; or make adapter_config.json base_model_name_or_path a local model folder$/,
    );
    const copied = await run(['import', 'nobase', '--out', 'nobase-imported', '--no-check']);
    expect(copied.stdout).toContain('not checked (--no-check)');
    expect(copied.stdout).toContain("mmft generate <base-model-dir> --adapter nobase-imported --prompt '…'");
    fs.mkdirSync(path.join(tmp, 'empty-out'));
    const nothing = await run(['import', 'empty-out', '--out', 'z']);
    expect(nothing.stderr).toBe(
      `${path.join(tmp, 'empty-out')} holds neither an adapter (adapter_config.json) nor a model (config.json + model.safetensors or model.safetensors.index.json)`,
    );
  });

  test('mmft generate prints what it prints with the bf16-rounded original adapter', async () => {
    writeTestPng(
      path.join(tmp, 'x.png'),
      8,
      8,
      new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 256),
    );
    const generate = async (adapterDir: string) => {
      const r = await run([
        'generate',
        BASE,
        '--adapter',
        adapterDir,
        '--image',
        'x.png',
        '--prompt',
        'What shape?',
        '--max-new-tokens',
        '6',
      ]);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    const text = await generate('imported');
    expect(text.trim().length).toBeGreaterThan(0);
    expect(text).toBe(await generate('reference'));
  });

  test('mmft export onnx takes the imported adapter as it is', async () => {
    const r = await run(['export', 'onnx', BASE, '--adapter', 'imported', '--out', 'onnx']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('adapter: lora; trainable params: ');
    expect(fs.existsSync(path.join(tmp, 'onnx', 'onnx', 'decoder_model_merged.onnx'))).toBe(true);
  });
});

describe('mmft import: full checkpoints', () => {
  test('a sharded BF16 checkpoint in the newer layout loads with every parameter equal to the base weights rounded to bf16; trainer state stays behind', async () => {
    const { tensors } = await readSafetensors(path.join(BASE, 'model.safetensors'));
    const names = [...tensors.keys()].sort();
    const half = Math.ceil(names.length / 2);
    const ckpt = path.join(tmp, 'full-out', 'checkpoint-4');
    fs.mkdirSync(ckpt, { recursive: true });
    const weightMap: Record<string, string> = {};
    const reference = new Map<string, Float32Array>();
    for (const [i, part] of [names.slice(0, half), names.slice(half)].entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const shard = new Map<string, WritableTensor>();
      for (const name of part) {
        const t = tensors.get(name)!;
        const newer = newerLayout(name);
        shard.set(newer, { dtype: 'BF16', shape: [...t.shape], data: t.data as Float32Array });
        reference.set(name, (t.data as Float32Array).map(roundBf16));
        weightMap[newer] = file;
      }
      await writeSafetensors(path.join(ckpt, file), shard, { format: 'pt' });
    }
    write(path.join(ckpt, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const copied = fs.readdirSync(BASE).filter((f) => f !== 'model.safetensors');
    for (const f of copied) fs.copyFileSync(path.join(BASE, f), path.join(ckpt, f));
    for (const f of ['optimizer.pt', 'rng_state.pth', 'training_args.bin']) write(path.join(ckpt, f), 'state');
    write(path.join(ckpt, 'trainer_state.json'), JSON.stringify({ global_step: 4 }));

    const r = await run(['import', 'full-out', '--out', 'full-imported']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      'engine: Hugging Face Trainer (full-out/checkpoint-4/trainer_state.json, full-out/checkpoint-4/training_args.bin)',
    );
    expect(r.stdout).toContain(
      'not copied (training state, not model files): optimizer.pt, rng_state.pth, trainer_state.json, training_args.bin',
    );
    expect(r.stdout).toContain(`checked: llava checkpoint loads (${names.length} tensors, ${names.length} BF16;`);
    const out = path.join(tmp, 'full-imported');
    const files = fs
      .readdirSync(out)
      .filter((f) => !f.startsWith('.'))
      .sort();
    expect(files).toEqual(
      [
        ...copied,
        'import.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
      ].sort(),
    );
    expect(
      fs
        .readFileSync(path.join(out, 'model-00002-of-00002.safetensors'))
        .equals(fs.readFileSync(path.join(ckpt, 'model-00002-of-00002.safetensors'))),
    ).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'import.json'), 'utf8'))).toMatchObject({ kind: 'model', step: 4, base: null });
    // Every parameter of the loaded model is the base's value rounded to bf16 (by this test), under its Hub name.
    const model = await registry.resolveModelType('llava', {}).fromPretrained(out, {}, architectureContext(registry));
    try {
      const params = model.root.namedParameters();
      expect(params.map(([n]) => n).sort()).toEqual([...reference.keys()].sort());
      const differ = params.filter(([name, v]) => {
        const [got, want] = [v.dataSync(), reference.get(name)!];
        return got.length !== want.length || got.some((x, i) => x !== want[i]);
      });
      expect(differ.map(([n]) => n)).toEqual([]);
      // …and the rounding is visible, so the equality says something.
      expect(params.some(([name, v]) => v.dataSync().some((x, i) => x !== (tensors.get(name)!.data as Float32Array)[i]))).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
