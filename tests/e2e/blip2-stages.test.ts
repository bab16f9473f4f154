// BLIP-2's two pre-training stages through `mmft train`, as recipes/blip2-shapes-stage1.yaml and
// recipes/blip2-shapes-stage2.yaml run them, at tiny size: stage 1 trains a fresh Q-Former
// (Blip2ForImageTextRetrieval, `objective: blip2-stage1`) over the frozen vision tower of a tiny CLIP
// folder; stage 2 composes a Blip2ForConditionalGeneration from the stage-1 folder (vision tower and
// Q-Former) and a tiny OPT folder, and trains the Q-Former and the projection under the frozen OPT
// with `objective: causal-lm` (LAVIS lavis/projects/blip2/train/pretrain_stage1.yaml and
// pretrain_stage2.yaml). Each stage's untrained starting point is also composed here through the
// same provider and section the CLI uses, so the saved models can be compared with where training began.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { architectureContext, readSafetensors } from '@mmft/core';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { blip2Provider, blip2RetrievalProvider } from '@mmft/arch-blip2';
import { createTinyClipCheckpoint } from '@mmft/arch-clip';
import { optProvider } from '@mmft/arch-opt';
import { createTinyOptCheckpoint } from '@mmft/arch-opt/testing';
import { runCliForTest } from '@mmft/cli/testing';

const RED = path.join(__dirname, '..', '..', 'packages', 'plugins', 'data-jsonl', 'fixtures', 'images', 'red.png');

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

const STAGE1_STEPS = 24;
const STAGE2_STEPS = 8;
const STAGE2_LR = 0.002;
// Caption length cap of stage 1 (objective max_length); the Q-Former has more positions than that,
// so the rows past it never receive a gradient.
const STAGE1_MAX_LENGTH = 24;
const QFORMER_POSITIONS = 40;

let dir: string;
let clipDir: string;
let optTensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;

/** The stage-1 `model:` section (recipe form, folders relative to the recipe). */
const stage1Model = {
  type: 'blip2-retrieval',
  seed: 0,
  tokenizer: './opt',
  config: {
    num_query_tokens: 4,
    image_text_hidden_size: 8,
    qformer_config: {
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      cross_attention_frequency: 1,
      vocab_size: 384,
      max_position_embeddings: QFORMER_POSITIONS,
      pad_token_id: 1,
      // "<s>" (id 0), which the OPT tokenizer never writes, is the decoder start token, as in the recipe
      bos_token_id: 0,
      hidden_dropout_prob: 0,
      attention_probs_dropout_prob: 0,
    },
  },
  init: { vision: './clip' },
};

/** The stage-2 `model:` section; another seed than stage 1, so a fresh Q-Former would not resemble stage 1's. */
const stage2Model = {
  type: 'blip2',
  seed: 5,
  config: { image_text_hidden_size: 8 },
  init: { vision: './stage1/checkpoint-last/model', qformer: './stage1/checkpoint-last/model', language_model: './opt' },
};

const shapes = (task: string, n: number, seed: number) => ({ type: 'shapes', task, domain: 'A', lang: 'en', n, seed, imageSize: 16 });

const row = (stdout: string, name: string): number[] =>
  (new RegExp(`^${name.replace(/\./g, '\\.')}\\s+([\\d.]+)(?:\\s+([\\d.]+))?$`, 'm').exec(stdout) ?? [])
    .slice(1)
    .filter((v) => v !== undefined)
    .map(Number);

const trainLosses = (out: string): number[] =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>)
    .filter((e) => e.kind === 'train')
    .map((e) => e.loss as number);

const tensorsOf = async (folder: string): Promise<Tensors> =>
  (await readSafetensors(path.join(folder, 'model.safetensors'))).tensors as unknown as Tensors;
const equal = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const names = (tensors: Tensors, pattern: RegExp) => [...tensors.keys()].filter((n) => pattern.test(n)).sort();

/** The section with its folders made absolute, as the recipe loader resolves them. */
function absolute<T extends { init: Record<string, string>; tokenizer?: string }>(section: T): T {
  const init = Object.fromEntries(Object.entries(section.init).map(([k, v]) => [k, path.join(dir, v)]));
  return { ...section, init, ...(section.tokenizer ? { tokenizer: path.join(dir, section.tokenizer) } : {}) };
}

/** Builds a model from a `model:` section without training and returns its saved tensors. */
async function composeUntrained(provider: typeof blip2Provider | typeof blip2RetrievalProvider, section: object, name: string) {
  const { type: _type, ...rest } = section as { type: string };
  const model = await provider.fromConfig(rest as never, architectureContext({ list: () => [optProvider] }));
  try {
    await model.save(path.join(dir, name));
  } finally {
    model.dispose();
  }
  return tensorsOf(path.join(dir, name));
}

const recipe = (fields: Record<string, unknown>) => JSON.stringify(fields, null, 1);

beforeAll(async () => {
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-stages-'));
  // a 16-pixel CLIP (two 8-pixel patches a side), the size the shapes images are rendered at
  clipDir = (await createTinyClipCheckpoint(path.join(dir, 'clip'), { seed: 2, vision: { image_size: 16, patch_size: 8 } })).dir;
  const opt = await createTinyOptCheckpoint(path.join(dir, 'opt'), { seed: 4, max_position_embeddings: 128, num_attention_heads: 2 });
  optTensors = opt.tensors;
  fs.writeFileSync(
    path.join(dir, 'stage1.yaml'),
    recipe({
      name: 'blip2-stages-1',
      seed: 0,
      model: stage1Model,
      data: { train: shapes('caption', 8, 1), eval: shapes('retrieval', 6, 1001) },
      objective: { type: 'blip2-stage1', max_length: STAGE1_MAX_LENGTH },
      metrics: [{ type: 'retrieval', ks: [1, 5] }],
      train: { type: 'standard', lr: 0.01, weight_decay: 0, max_steps: STAGE1_STEPS, batch_size: 8, freeze: ['vision'] },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'stage2.yaml'),
    recipe({
      name: 'blip2-stages-2',
      seed: 0,
      model: stage2Model,
      data: { train: shapes('caption', 8, 1), eval: shapes('caption', 4, 1001) },
      objective: { type: 'causal-lm', max_length: 64, generation: { max_new_tokens: 4 } },
      metrics: [{ type: 'caption' }],
      train: { type: 'standard', lr: STAGE2_LR, weight_decay: 0, max_steps: STAGE2_STEPS, batch_size: 4, freeze: ['vision', 'language'] },
    }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('BLIP-2 stage 1 then stage 2 through mmft train', () => {
  let stage1: Tensors;
  let stage1Start: Tensors;

  test('stage 1: the stage-1 loss falls, the frozen tower is the converted CLIP, the Q-Former trains', async () => {
    const out = path.join(dir, 'stage1');
    const run = await runCliForTest(['train', path.join(dir, 'stage1.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Recall@K from the ITC similarities, before and after training
    expect(row(run.stdout, 'retrieval.t2i_R@1')).toHaveLength(2);

    const losses = trainLosses(out);
    expect(losses).toHaveLength(STAGE1_STEPS);
    expect(losses.every(Number.isFinite)).toBe(true);
    const tail = losses.slice(-4).reduce((a, b) => a + b, 0) / 4;
    expect(tail).toBeLessThan(losses[0]! - 0.5);

    const saved = path.join(out, 'checkpoint-last', 'model');
    const config = JSON.parse(fs.readFileSync(path.join(saved, 'config.json'), 'utf8')) as { architectures: string[]; model_type: string };
    expect(config.architectures).toEqual(['Blip2ForImageTextRetrieval']);
    expect(config.model_type).toBe('blip-2');
    stage1 = await tensorsOf(saved);
    stage1Start = await composeUntrained(blip2RetrievalProvider, absolute(stage1Model), 'stage1-start');
    expect([...stage1.keys()].sort()).toEqual([...stage1Start.keys()].sort());

    // the frozen vision tower is the converted CLIP's, bit for bit
    const vision = names(stage1, /^vision_model\./);
    expect(vision.length).toBeGreaterThan(10);
    for (const name of vision) expect(equal(stage1.get(name)!.data, stage1Start.get(name)!.data)).toBe(true);
    // ... and the conversion took CLIP's weights: kept names equal, q/k/v stacked into qkv
    const clip = await tensorsOf(clipDir);
    for (const name of ['encoder.layers.0.mlp.fc1.weight', 'encoder.layers.0.layer_norm2.bias', 'post_layernorm.weight']) {
      expect(equal(stage1.get(`vision_model.${name}`)!.data, clip.get(`vision_model.${name}`)!.data)).toBe(true);
    }
    const clipAttention = 'vision_model.encoder.layers.0.self_attn';
    const qkv = Float32Array.from(
      ['q_proj', 'k_proj', 'v_proj'].flatMap((p) => Array.from(clip.get(`${clipAttention}.${p}.weight`)!.data)),
    );
    expect(equal(stage1.get('vision_model.encoder.layers.0.self_attn.qkv.weight')!.data, qkv)).toBe(true);

    // every Q-Former weight matrix moved; position rows past max_length got no gradient and kept the
    // seeded values (so the start composed here is the one the CLI trained from)
    const qformer = names(stage1, /^(qformer\..*\.weight|query_tokens)$/).filter((n) => stage1.get(n)!.shape.length >= 2);
    expect(qformer.length).toBeGreaterThan(10);
    for (const name of qformer) {
      expect({ name, changed: !equal(stage1.get(name)!.data, stage1Start.get(name)!.data) }).toEqual({ name, changed: true });
    }
    const positions = 'embeddings.position_embeddings.weight';
    const width = stage1.get(positions)!.shape[1]!;
    expect(stage1.get(positions)!.shape[0]).toBe(QFORMER_POSITIONS);
    const unused = (t: Tensors) => t.get(positions)!.data.subarray(STAGE1_MAX_LENGTH * width);
    expect(equal(unused(stage1), unused(stage1Start))).toBe(true);
    const used = (t: Tensors) => t.get(positions)!.data.subarray(0, width);
    expect(equal(used(stage1), used(stage1Start))).toBe(false);
  });

  test('stage 2: starts from the stage-1 Q-Former and the OPT folder, trains only Q-Former and projection, captions', async () => {
    expect(stage1).toBeDefined();
    const start = await composeUntrained(blip2Provider, absolute(stage2Model), 'stage2-start');
    const out = path.join(dir, 'stage2');
    const run = await runCliForTest(['train', path.join(dir, 'stage2.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // evaluation generated captions before and after training, and the caption metric scored them
    for (const name of ['caption.bleu1', 'caption.cider']) {
      const scores = row(run.stdout, name);
      expect({ name, scores: scores.length, finite: scores.every(Number.isFinite) }).toEqual({ name, scores: 2, finite: true });
    }
    const [before, after] = row(run.stdout, 'perplexity') as [number, number];
    expect(after).toBeLessThan(before);
    const losses = trainLosses(out);
    expect(losses).toHaveLength(STAGE2_STEPS);
    expect(losses.every(Number.isFinite)).toBe(true);

    const saved = path.join(out, 'checkpoint-last', 'model');
    const config = JSON.parse(fs.readFileSync(path.join(saved, 'config.json'), 'utf8')) as {
      architectures: string[];
      num_query_tokens: number;
      text_config: { model_type: string };
    };
    expect(config.architectures).toEqual(['Blip2ForConditionalGeneration']);
    expect(config.num_query_tokens).toBe(4);
    expect(config.text_config.model_type).toBe('opt');
    const trained = await tensorsOf(saved);
    expect([...trained.keys()].sort()).toEqual([...start.keys()].sort());

    // the composed start: vision tower and Q-Former are stage 1's, the language model is the OPT folder's
    const qformer = names(start, /^(qformer\.|query_tokens$)/);
    expect(qformer.length).toBeGreaterThan(10);
    for (const name of [...names(start, /^vision_model\./), ...qformer]) {
      expect({ name, copied: equal(start.get(name)!.data, stage1.get(name)!.data) }).toEqual({ name, copied: true });
    }
    const language = names(trained, /^language_model\./);
    expect(language.sort()).toEqual([...optTensors.keys()].map((n) => `language_model.${n}`).sort());
    for (const name of language) {
      const original = optTensors.get(name.slice('language_model.'.length))!.data;
      const frozen = equal(trained.get(name)!.data, original) && equal(start.get(name)!.data, original);
      expect({ name, frozen }).toEqual({ name, frozen: true });
    }

    // only the Q-Former, the queries and the projection moved in stage 2
    const changed = [...start.keys()].filter((name) => !equal(start.get(name)!.data, trained.get(name)!.data));
    for (const name of changed) expect(name).toMatch(/^(qformer\.|query_tokens$|language_projection\.)/);
    expect(changed).toContain('language_projection.weight');
    expect(changed).toContain('query_tokens');
    expect(changed.filter((n) => n.startsWith('qformer.')).length).toBeGreaterThan(5);

    // the stage-2 folder captions an image through the CLI
    const caption = await runCliForTest([
      'generate',
      saved,
      '--image',
      RED,
      '--prompt',
      'a photo of',
      '--max-new-tokens',
      '4',
      '--min-new-tokens',
      '4',
      '--json',
    ]);
    expect(caption.stderr).toBe('');
    const generated = JSON.parse(caption.stdout) as { sequences: number[][]; texts: string[] };
    expect(generated.sequences).toHaveLength(1);
    expect(generated.sequences[0]).toHaveLength(4);
    expect(typeof generated.texts[0]).toBe('string');

    // the run trained from the stage-1 Q-Former: AdamW without weight decay moves a weight by at most
    // ~lr·(1 − β1)/√(1 − β2) ≈ 3.2·lr a step, so the trained Q-Former stays within that of stage 1's,
    // while a fresh one (what an ignored init would train from) is far outside it
    const bound = 3.2 * STAGE2_LR * STAGE2_STEPS;
    const { qformer: _qformer, ...withoutQformer } = absolute(stage2Model).init;
    const fresh = await composeUntrained(
      blip2Provider,
      { ...stage2Model, config: { ...stage1Model.config, ...stage2Model.config }, init: withoutQformer },
      'stage2-fresh',
    );
    for (const name of qformer) expect({ name, shape: fresh.get(name)?.shape }).toEqual({ name, shape: stage1.get(name)!.shape });
    const distance = (t: Tensors) => Math.max(...qformer.map((n) => maxAbsDiff(t.get(n)!.data, stage1.get(n)!.data)));
    expect(distance(trained)).toBeGreaterThan(0);
    expect(distance(trained)).toBeLessThan(bound);
    expect(distance(fresh)).toBeGreaterThan(2 * bound);
  });
});
