// Conformance kit every handoff target runs (docs/conventions.md §11), and the fixtures its tests share: the plan
// of recipes/llava-shapes-instruct.yaml, a bundle folder with core's chat rows, and a tiny LLaVA config folder.
// The shared checks hold for any engine: each file a target lists exists, output and commands are set, every
// mapping starts from a recipe field or an `mmft handoff` flag, every gap says why, and the keys of the files
// the target names are ones its engine knows.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import type { HandoffData, HandoffLaunch, HandoffPlan, HandoffResult, HandoffTargetProvider } from '../contracts/handoff';
import { handoffPlan } from '../handoff/plan';
import { readRecipe } from '../recipe/read-recipe';

/**
 * recipes/llava-shapes-instruct.yaml as core's handoffPlan reads it: LoRA r16/α32 on all-linear minus the vision
 * tower, the projector saved whole at lr 1e-3, the rest at 2e-3, cosine with 10 warmup steps, 900 steps of batch 16.
 */
export function llavaHandoffPlan(over: Partial<HandoffPlan> = {}, modelDir = '/abs/models/llava-shapes-base'): HandoffPlan {
  return {
    recipeFile: '/abs/recipes/llava-shapes-instruct.yaml',
    name: 'llava-shapes-instruct',
    seed: 0,
    model: { path: modelDir, localPath: modelDir, modelType: 'llava', architecture: 'LlavaForConditionalGeneration' },
    template: 'llava_v1',
    defaultSystem: '',
    maxLength: 256,
    trainOnPrompt: false,
    freeze: { vision: true, projector: false, language: false },
    peft: {
      method: 'lora',
      r: 16,
      alpha: 32,
      dropout: 0,
      targetModules: 'all-linear',
      excludeModules: 'vision_tower\\..*',
      modulesToSave: ['multi_modal_projector'],
      useRslora: false,
    },
    train: {
      lr: 0.002,
      lrGroups: [{ params: 'projector', lr: 0.001 }],
      weightDecay: 0,
      betas: [0.9, 0.999],
      eps: 1e-8,
      warmupSteps: 10,
      schedule: 'cosine',
      maxSteps: 900,
      batchSize: 16,
      gradAccum: 1,
      maxGradNorm: 1,
      gradientCheckpointing: false,
      logEvery: 25,
    },
    gaps: [],
    ...over,
  };
}

/** The plan `mmft handoff` builds from one of the repository's recipes (`name` in recipes/), model folder included. */
export function repoRecipePlan(name: string): HandoffPlan {
  // src/testing and dist/testing sit at the same depth under packages/core.
  const raw = readRecipe(path.join(__dirname, '..', '..', '..', '..', 'recipes', name));
  return handoffPlan(raw.value, raw.file, raw.baseDir);
}

/** The data core writes for a bundle: train and eval chats under data/ (see handoffBundleDir). */
export const HANDOFF_DATA: HandoffData = {
  train: 'data/train.jsonl',
  eval: 'data/eval.jsonl',
  trainRows: 2,
  evalRows: 1,
  imagesDir: 'data/images',
};

/** A launch layout; `over` changes fields. */
export function handoffLaunch(over: Partial<HandoffLaunch> = {}): HandoffLaunch {
  return { gpus: 2, nodes: 1, strategy: 'zero2', precision: 'bf16', outputDir: 'output', ...over };
}

/** Two chat rows as core writes them: the first with an image and LLaVA's `<image>\n`, the second text only. */
export const HANDOFF_ROWS: readonly object[] = [
  {
    messages: [
      { role: 'user', content: '<image>\nWhat colour is the circle?' },
      { role: 'assistant', content: 'red' },
    ],
    images: ['images/a.png'],
  },
  {
    messages: [
      { role: 'user', content: 'Say hi.' },
      { role: 'assistant', content: 'hi' },
    ],
    images: [],
  },
];

const jsonl = (rows: readonly object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** A fresh bundle folder holding `data.train` / `data.eval` rows and an empty images folder, as core leaves it for a target. */
export function handoffBundleDir(
  prefix: string,
  rows: { readonly train?: readonly object[]; readonly eval?: readonly object[] } = {},
  data: HandoffData = HANDOFF_DATA,
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(path.join(dir, data.imagesDir), { recursive: true });
  fs.writeFileSync(path.join(dir, data.train), jsonl(rows.train ?? HANDOFF_ROWS));
  if (data.eval) fs.writeFileSync(path.join(dir, data.eval), jsonl(rows.eval ?? HANDOFF_ROWS.slice(0, 1)));
  return dir;
}

/** config.json of a transformers LLaVA checkpoint, as much as handoffPlan reads. */
export const TINY_LLAVA_CONFIG = {
  model_type: 'llava',
  architectures: ['LlavaForConditionalGeneration'],
  vision_config: { model_type: 'clip_vision_model' },
};

/** A model folder with config.json (`config`) and the `extra` files (name → text). */
export function tinyModelConfigDir(extra: Readonly<Record<string, string>> = {}, config: object = TINY_LLAVA_CONFIG): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-handoff-model-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The keys a target wrote into one of its files and the set its engine accepts. */
export interface HandoffKeyCheck {
  readonly file: string;
  readonly keys: readonly string[];
  readonly known: ReadonlySet<string>;
}

export interface HandoffTargetConformance {
  /** The target's config (default: its schema's defaults). */
  readonly config?: unknown;
  /** Plans to write besides the LLaVA LoRA one (QLoRA, full fine-tuning, a text model...). */
  readonly plans?: readonly HandoffPlan[];
  /** Reads back the keys of the files the target wrote, each with the names its engine defines. */
  keys(bundleDir: string, result: HandoffResult, launch: HandoffLaunch): readonly HandoffKeyCheck[];
}

/** Where a mapping may start: a recipe section, an `mmft handoff` flag, the launch as a whole, or a parenthesised remark. */
const MMFT_FIELD = /^(?:(?:model|data|objective|peft|train|metrics|seed|launch)(?:[. ]|$)|--[a-z][a-z-]*$|\(.+\)$)/;

/**
 * Registers the shared handoff-target tests: the LLaVA LoRA plan (and `options.plans`) under every strategy, on one
 * node and on two.
 *
 * @example
 * describeHandoffTarget(swiftTarget, { keys: (dir) => [{ file: 'train.sh', keys: flagsOf(dir), known: SWIFT_SFT_ARGUMENTS }] });
 */
export function describeHandoffTarget<C>(provider: HandoffTargetProvider<C>, options: HandoffTargetConformance): void {
  const temps: string[] = [];
  afterAll(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const config = (options.config ?? provider.configSchema.parse({})) as C;
  const plans = [llavaHandoffPlan(), ...(options.plans ?? [])];
  const launches = (['zero2', 'zero3', 'fsdp', 'ddp'] as const).flatMap((strategy) => [
    handoffLaunch({ strategy }),
    handoffLaunch({ strategy, gpus: 4, nodes: 2, precision: 'fp16' }),
  ]);

  describe(`handoff conformance: ${provider.id}`, () => {
    test('manifest: kind handoff, an engine name, a config schema with defaults', () => {
      expect(provider.kind).toBe('handoff');
      expect(provider.engine.length).toBeGreaterThan(0);
      expect(() => provider.configSchema.parse({})).not.toThrow();
    });

    test('every plan under every launch: listed files exist, output and commands set, mappings and gaps well formed', async () => {
      for (const [p, plan] of plans.entries()) {
        for (const launch of launches) {
          const where = `plan ${p}, ${launch.strategy} × ${launch.nodes} node(s)`;
          const dir = handoffBundleDir('mmft-handoff-kit-');
          temps.push(dir);
          const result = await provider.write(plan, HANDOFF_DATA, launch, dir, config);
          expectHandoffResult(where, dir, result, launch, options.keys(dir, result, launch));
        }
      }
    });
  });
}

/**
 * The checks every target's result must pass (`where` names the case in a failure): each listed file exists under
 * the bundle, output and commands are set, a multi-node run names NODE_RANK and MASTER_ADDR, every mapping and gap
 * starts from a recipe field or flag, every gap says why, and every key in `keyChecks` is a known one.
 */
export function expectHandoffResult(
  where: string,
  dir: string,
  result: HandoffResult,
  launch: HandoffLaunch,
  keyChecks: readonly HandoffKeyCheck[],
): void {
  expect([where, result.files.length > 0]).toEqual([where, true]);
  expect([where, new Set(result.files).size]).toEqual([where, result.files.length]);
  for (const file of result.files) {
    const full = path.join(dir, file);
    expect([where, file, path.isAbsolute(file), fs.existsSync(full) && fs.statSync(full).isFile()]).toEqual([where, file, false, true]);
  }
  expect(result.output).toBe(launch.outputDir);
  expect(result.commands.length).toBeGreaterThan(0);
  for (const command of result.commands) expect(command.trim()).not.toBe('');
  // A multi-node run must say how each node learns its rank and the master's address.
  if (launch.nodes > 1) {
    const text = [...result.commands, ...result.files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))].join('\n');
    expect([where, /NODE_RANK/.test(text), /MASTER_ADDR/.test(text)]).toEqual([where, true, true]);
  }
  expect(result.mappings.length).toBeGreaterThan(0);
  for (const m of result.mappings) {
    expect([where, m.mmft, MMFT_FIELD.test(m.mmft)]).toEqual([where, m.mmft, true]);
    expect([where, m.mmft, m.target.trim().length > 0]).toEqual([where, m.mmft, true]);
    if (m.note !== undefined) expect([where, m.mmft, m.note.trim().length > 0]).toEqual([where, m.mmft, true]);
  }
  for (const gap of result.gaps) {
    expect([where, gap.field, MMFT_FIELD.test(gap.field)]).toEqual([where, gap.field, true]);
    expect([where, gap.field, gap.why.trim().length > 10]).toEqual([where, gap.field, true]);
  }
  for (const { file, keys, known } of keyChecks) {
    expect([where, file, keys.length > 0]).toEqual([where, file, true]);
    for (const key of keys) expect([where, file, key, known.has(key)]).toEqual([where, file, key, true]);
  }
}
