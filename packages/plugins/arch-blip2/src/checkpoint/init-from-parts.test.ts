import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { architectureContext, type ArchitectureProvider } from '@mmft/core';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { loadCausalLmFolder, loadCausalLmWeights } from '@mmft/core/lm';
import { tinyCausalLm, tinyCausalLmProvider } from '@mmft/core/testing';
import { Blip2ForConditionalGeneration } from '../blip2-for-conditional-generation';
import { blip2Provider, blip2RetrievalProvider } from '../plugin';
import { createTinyBlip2Checkpoint, TINY_BLIP2_CONFIG } from '../testing';
import { Blip2VisionEmbeddings } from '../model/vision';
import {
  applyBlip2Init,
  blip2InitSchema,
  blip2VisionConfigFromClip,
  estimateClipEmbeddingStd,
  resolveBlip2Config,
  type Blip2Init,
} from './init-from-parts';

// tiny-lm with checkpoint folders: core's tiny causal LM, read back from what its save() writes.
const folderTinyLm: ArchitectureProvider = {
  ...(tinyCausalLmProvider as ArchitectureProvider),
  async fromPretrained(dir) {
    const folder = await loadCausalLmFolder(dir);
    const lm = tinyCausalLm({ hiddenSize: folder.config.hidden_size as number, tokenizerFiles: folder.tokenizerFiles });
    loadCausalLmWeights(lm.root, folder.tensors, { tied: { 'lm_head.weight': 'model.embed_tokens.weight' } });
    return lm;
  },
};
const context = architectureContext({ list: () => [folderTinyLm, blip2Provider as ArchitectureProvider] });

/** Deterministic normal-ish numbers (sum of uniforms), so fixtures never depend on tfjs. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const uniform = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return (scale: number, offset = 0) => offset + scale * (uniform() + uniform() + uniform() - 1.5) * 2;
}

interface ClipShape {
  hidden: number;
  layers: number;
  heads: number;
  inter: number;
  image: number;
  patch: number;
}
const CLIP16: ClipShape = { hidden: 16, layers: 2, heads: 2, inter: 32, image: 8, patch: 4 };
const MEAN = [0.5, 0.4, 0.3];
const STD = [0.2, 0.25, 0.3];

/** A CLIPModel folder in HF key layout (vision tower with pre_layrnorm, a stub text tower, projections). */
async function writeClipFolder(dir: string, shape: ClipShape, seed: number, options: { drop?: string; modelType?: string } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const { hidden: d, layers, inter, image, patch } = shape;
  const n = (image / patch) ** 2 + 1;
  const r = rng(seed);
  const tensors = new Map<string, WritableTensor>();
  const add = (name: string, dims: number[], scale: number, offset = 0) => {
    const size = dims.reduce((a, b) => a * b, 1);
    tensors.set(name, { dtype: 'F32', shape: dims, data: Float32Array.from({ length: size }, () => r(scale, offset)) });
  };
  const v = 'vision_model';
  add(`${v}.embeddings.class_embedding`, [d], 0.5);
  add(`${v}.embeddings.patch_embedding.weight`, [d, 3, patch, patch], 0.2);
  add(`${v}.embeddings.position_embedding.weight`, [n, d], 0.5);
  add(`${v}.pre_layrnorm.weight`, [d], 0.5, 1);
  add(`${v}.pre_layrnorm.bias`, [d], 0.5);
  for (let l = 0; l < layers; l++) {
    const at = `${v}.encoder.layers.${l}`;
    for (const p of ['q', 'k', 'v', 'out']) {
      add(`${at}.self_attn.${p}_proj.weight`, [d, d], 0.3);
      add(`${at}.self_attn.${p}_proj.bias`, [d], 0.2);
    }
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      add(`${at}.${ln}.weight`, [d], 0.3, 1);
      add(`${at}.${ln}.bias`, [d], 0.1);
    }
    add(`${at}.mlp.fc1.weight`, [inter, d], 0.3);
    add(`${at}.mlp.fc1.bias`, [inter], 0.1);
    add(`${at}.mlp.fc2.weight`, [d, inter], 0.2);
    add(`${at}.mlp.fc2.bias`, [d], 0.1);
  }
  add(`${v}.post_layernorm.weight`, [d], 0.3, 1);
  add(`${v}.post_layernorm.bias`, [d], 0.1);
  add('visual_projection.weight', [8, d], 0.3);
  add('text_model.embeddings.token_embedding.weight', [10, 12], 0.3);
  add('text_projection.weight', [8, 12], 0.3);
  add('logit_scale', [], 1, 2.6592);
  if (options.drop) tensors.delete(options.drop);
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  const vision = {
    hidden_size: d,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: shape.heads,
    image_size: image,
    patch_size: patch,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    model_type: 'clip_vision_model',
  };
  const config =
    options.modelType === 'clip_vision_model'
      ? { architectures: ['CLIPVisionModel'], ...vision }
      : { architectures: ['CLIPModel'], model_type: 'clip', projection_dim: 8, text_config: { hidden_size: 12 }, vision_config: vision };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const preprocessor = { image_processor_type: 'CLIPImageProcessor', image_mean: MEAN, image_std: STD, size: { shortest_edge: image } };
  fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessor));
  return tensors;
}

// ---- independent float64 CLIP vision tower (modeling_clip.py CLIPVisionTransformer), optionally without pre_layrnorm ----
type Vec = number[];
type Weights = Map<string, WritableTensor>;
const arr = (w: Weights, name: string) => {
  const t = w.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return t.data as Float32Array;
};
function ln(x: Vec, g: Float32Array, b: Float32Array, eps: number): Vec {
  const mean = x.reduce((a, c) => a + c, 0) / x.length;
  const variance = x.reduce((a, c) => a + (c - mean) ** 2, 0) / x.length;
  return x.map((c, i) => ((c - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
}
function lin(x: Vec, w: Float32Array, b: Float32Array, out: number): Vec {
  const inn = x.length;
  return Array.from({ length: out }, (_, o) => {
    let s = b[o]!;
    for (let i = 0; i < inn; i++) s += w[o * inn + i]! * x[i]!;
    return s;
  });
}
const quickGelu = (x: number) => x / (1 + Math.exp(-1.702 * x));

/** CLIPVisionEmbeddings: class_embedding, then the patch conv (no bias) row by row, plus the position rows. */
function refClipEmbeddings(w: Weights, s: ClipShape, img: number[][][]): Vec[] {
  const { hidden: d, patch: p, image } = s;
  const v = 'vision_model';
  const grid = image / p;
  const conv = arr(w, `${v}.embeddings.patch_embedding.weight`);
  const cls = arr(w, `${v}.embeddings.class_embedding`);
  const pos = arr(w, `${v}.embeddings.position_embedding.weight`);
  const x: Vec[] = [Array.from(cls)];
  for (let i = 0; i < grid; i++)
    for (let j = 0; j < grid; j++)
      x.push(
        Array.from({ length: d }, (_, o) => {
          let sum = 0;
          for (let c = 0; c < 3; c++)
            for (let u = 0; u < p; u++)
              for (let q = 0; q < p; q++) sum += conv[((o * 3 + c) * p + u) * p + q]! * img[c]![i * p + u]![j * p + q]!;
          return sum;
        }),
      );
  return x.map((row, t) => row.map((c, k) => c + pos[t * d + k]!));
}

/** Returns the encoder output (before post_layernorm) and post_layernorm over every token. */
function refClipVision(w: Weights, s: ClipShape, img: number[][][], preLayerNorm: boolean): { encoder: Vec[]; post: Vec[] } {
  const { hidden: d, heads } = s;
  const eps = 1e-5;
  const v = 'vision_model';
  let x = refClipEmbeddings(w, s, img);
  if (preLayerNorm) x = x.map((row) => ln(row, arr(w, `${v}.pre_layrnorm.weight`), arr(w, `${v}.pre_layrnorm.bias`), eps));
  const hd = d / heads;
  for (let l = 0; l < s.layers; l++) {
    const at = `${v}.encoder.layers.${l}`;
    const g = (name: string) => arr(w, `${at}.${name}`);
    const h = x.map((row) => ln(row, g('layer_norm1.weight'), g('layer_norm1.bias'), eps));
    const proj = (name: string) => h.map((row) => lin(row, g(`self_attn.${name}.weight`), g(`self_attn.${name}.bias`), d));
    const [q, k, vv] = [proj('q_proj'), proj('k_proj'), proj('v_proj')];
    const context = h.map((_, t) => {
      const outRow = new Array<number>(d).fill(0);
      for (let head = 0; head < heads; head++) {
        const scores = k.map((kr) => {
          let dot = 0;
          for (let e = 0; e < hd; e++) dot += q[t]![head * hd + e]! * kr[head * hd + e]!;
          return dot / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const exp = scores.map((sc) => Math.exp(sc - max));
        const z = exp.reduce((a, c) => a + c, 0);
        exp.forEach((e, j) => {
          for (let c = 0; c < hd; c++) outRow[head * hd + c]! += (e / z) * vv[j]![head * hd + c]!;
        });
      }
      return outRow;
    });
    x = x.map((row, t) => {
      const attn = lin(context[t]!, g('self_attn.out_proj.weight'), g('self_attn.out_proj.bias'), d);
      return row.map((c, i) => c + attn[i]!);
    });
    x = x.map((row) => {
      const hidden = lin(ln(row, g('layer_norm2.weight'), g('layer_norm2.bias'), eps), g('mlp.fc1.weight'), g('mlp.fc1.bias'), s.inter).map(
        quickGelu,
      );
      const out = lin(hidden, g('mlp.fc2.weight'), g('mlp.fc2.bias'), d);
      return row.map((c, i) => c + out[i]!);
    });
  }
  return { encoder: x, post: x.map((row) => ln(row, arr(w, `${v}.post_layernorm.weight`), arr(w, `${v}.post_layernorm.bias`), eps)) };
}

const worstDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
const cosine = (a: number[], b: number[]) => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => ((ab += x * b[i]!), (aa += x * x), (bb += b[i]! * b[i]!)));
  return ab / Math.sqrt(aa * bb);
};

let tmp: string;
let clipDir: string;
let clipTensors: Weights;
let lmDir: string;
let qformerDir: string;
let retrievalDir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-init-'));
  clipDir = path.join(tmp, 'clip');
  clipTensors = await writeClipFolder(clipDir, CLIP16, 11);
  lmDir = path.join(tmp, 'lm');
  const lm = tinyCausalLm({ hiddenSize: 8, seed: 9 });
  await lm.save(lmDir);
  lm.dispose();
  const textConfig = { model_type: 'tiny-lm', hidden_size: 8 };
  qformerDir = (await createTinyBlip2Checkpoint(path.join(tmp, 'blip2'), { context, seed: 4, textConfig, layout: 'legacy' })).dir;
  retrievalDir = (
    await createTinyBlip2Checkpoint(path.join(tmp, 'blip2-text'), {
      context,
      seed: 6,
      textConfig,
      layout: 'legacy',
      config: { qformer_config: { ...TINY_BLIP2_CONFIG.qformer_config, use_qformer_text_input: true } },
    })
  ).dir;
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Tiny sub-configs for the parts a test does not take from a folder (the defaults are BLIP-2's full size).
const TINY_Q = { qformer_config: TINY_BLIP2_CONFIG.qformer_config, text_config: { model_type: 'tiny-lm' } };
const TINY_VQ = { ...TINY_Q, vision_config: TINY_BLIP2_CONFIG.vision_config };

/** resolveBlip2Config → fromConfig → applyBlip2Init, as the recipe section does it. */
async function compose(init: Blip2Init, config?: Record<string, unknown>) {
  const plan = await resolveBlip2Config(config, init);
  const model = await Blip2ForConditionalGeneration.fromConfig(plan.config, context, {
    seed: 1,
    tokenizer: plan.tokenizer,
    imageProcessing: plan.imageProcessing,
  });
  return { plan, model };
}

describe('blip2VisionConfigFromClip', () => {
  test('CLIPConfig.vision_config and a flat CLIPVisionConfig give the same fields; absent ones are CLIP ViT-B/32 defaults', () => {
    const vision = { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, image_size: 8, patch_size: 4, layer_norm_eps: 1e-6 };
    const fromModel = blip2VisionConfigFromClip({ model_type: 'clip', vision_config: vision });
    expect(fromModel).toEqual({
      ...vision,
      intermediate_size: 3072,
      hidden_act: 'quick_gelu',
      attention_dropout: 0,
      initializer_range: 0.02,
      qkv_bias: true,
    });
    expect(blip2VisionConfigFromClip({ model_type: 'clip_vision_model', ...vision })).toEqual(fromModel);
    expect(blip2VisionConfigFromClip({ model_type: 'clip' })).toMatchObject({
      hidden_size: 768,
      patch_size: 32,
      image_size: 224,
      layer_norm_eps: 1e-5,
    });
  });

  test('a grey-scale CLIP or a non-CLIP config is refused by name', () => {
    expect(() => blip2VisionConfigFromClip({ model_type: 'clip', vision_config: { num_channels: 1 } }, 'c/config.json')).toThrow(
      /c\/config\.json: vision_config\.num_channels is 1/,
    );
    expect(() => blip2VisionConfigFromClip({ model_type: 'siglip' }, 'c/config.json')).toThrow(/model_type "siglip" is not a CLIP config/);
  });
});

describe('resolveBlip2Config', () => {
  test('vision_config from CLIP, qformer_config and num_query_tokens from the BLIP-2 folder, text_config from the LM; written fields win', async () => {
    const plan = await resolveBlip2Config(
      { num_query_tokens: 4, vision_config: { layer_norm_eps: 1e-6 }, text_config: { bos_token_id: 7 }, initializer_range: 0.1 },
      { vision: clipDir, qformer: qformerDir, language_model: lmDir },
    );
    const lmConfig = JSON.parse(fs.readFileSync(path.join(lmDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(plan.config.vision_config).toMatchObject({
      hidden_size: 16,
      num_hidden_layers: 2,
      image_size: 8,
      patch_size: 4,
      hidden_act: 'quick_gelu',
    });
    expect(plan.config.vision_config!.layer_norm_eps).toBe(1e-6);
    expect(plan.config.qformer_config).toMatchObject({ hidden_size: 12, num_hidden_layers: 3, cross_attention_frequency: 2 });
    expect(plan.config.qformer_config).not.toHaveProperty('encoder_hidden_size');
    expect(plan.config.num_query_tokens).toBe(4);
    expect(plan.config.text_config).toEqual({
      model_type: 'tiny-lm',
      vocab_size: lmConfig.vocab_size,
      hidden_size: 8,
      tie_word_embeddings: true,
      eos_token_id: lmConfig.eos_token_id,
      bos_token_id: 7,
    });
    expect(plan.config.initializer_range).toBe(0.1);
    expect(plan.tokenizer).toBe(lmDir);
    expect(plan.imageProcessing).toEqual({ size: 8, cropSize: 8, mean: MEAN, std: STD });
  });

  test('num_query_tokens comes from the Q-Former folder when the section leaves it out; the section tokenizer wins', async () => {
    const plan = await resolveBlip2Config(undefined, { qformer: qformerDir }, { tokenizer: '/tok' });
    expect(plan.config.num_query_tokens).toBe(4);
    expect(plan.tokenizer).toBe('/tok');
    expect(plan.config.vision_config).toBeUndefined();
  });

  test('a text_config.model_type other than the folder’s, or a folder of the wrong kind, is an E_CONFIG error', async () => {
    await expect(resolveBlip2Config({ text_config: { model_type: 'opt' } }, { language_model: lmDir })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringMatching(/text_config\.model_type is "opt" but init\.language_model .* holds a "tiny-lm" model/),
    });
    await expect(resolveBlip2Config(undefined, { vision: lmDir })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringMatching(
        /init\.vision: .*config\.json has model_type "tiny-lm"; init\.vision takes clip or clip_vision_model or blip-2/,
      ),
    });
    await expect(resolveBlip2Config(undefined, { qformer: clipDir })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('applyBlip2Init', () => {
  test('CLIP with vision_pre_layernorm: drop equals a float64 CLIP vision tower without pre_layrnorm (k bias dropped exactly)', async () => {
    const init = { vision: clipDir, vision_pre_layernorm: 'drop' as const };
    const { model } = await compose(init, TINY_Q);
    try {
      const report = await applyBlip2Init(model, init, context);
      const targets = [...model.root.stateDict().keys()].filter((n) => n.startsWith('vision_model.'));
      expect(report.vision).toEqual({
        dir: clipDir,
        format: 'clip',
        copied: targets.length,
        dropped: ['vision_model.pre_layrnorm.bias', 'vision_model.pre_layrnorm.weight'],
        preLayerNorm: { mode: 'drop' },
      });
      const dict = model.root.stateDict();
      const qkvBias = dict.get('vision_model.encoder.layers.1.self_attn.qkv.bias')!.dataSync();
      expect(Array.from(qkvBias.slice(16, 32))).toEqual(new Array(16).fill(0));
      expect(Array.from(qkvBias.slice(0, 16))).toEqual(Array.from(arr(clipTensors, 'vision_model.encoder.layers.1.self_attn.q_proj.bias')));
      expect(Array.from(dict.get('vision_model.embeddings.patch_embedding.bias')!.dataSync())).toEqual(new Array(16).fill(0));

      const px = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3);
      const image = px.arraySync() as number[][][][];
      const { lastHiddenState, poolerOutput } = model.root.visionModel.forward(px);
      const got = lastHiddenState.arraySync() as number[][][];
      for (let b = 0; b < 2; b++) {
        const ref = refClipVision(clipTensors, CLIP16, image[b]!, false);
        expect(worstDiff(got[b]!.flat(), ref.post.flat())).toBeLessThan(2e-4);
        // Kept pre_layrnorm would give another function: the converted tower is not CLIP's.
        const clip = refClipVision(clipTensors, CLIP16, image[b]!, true);
        expect(cosine(ref.encoder.flat(), clip.encoder.flat())).toBeLessThan(0.999);
      }
      tf.dispose([px, lastHiddenState, poolerOutput]);
    } finally {
      model.dispose();
    }
  });

  test('all three parts: vision, Q-Former and LM weights land bit-exact, language_projection stays fresh, save/load round trip', async () => {
    const init = { vision: clipDir, qformer: qformerDir, language_model: lmDir };
    const { model, plan } = await compose(init);
    try {
      const fresh = model.root.stateDict().get('language_projection.weight')!.dataSync().slice();
      const before = tf.memory().numTensors;
      const report = await applyBlip2Init(model, init, context);
      expect(tf.memory().numTensors).toBe(before);
      const dict = model.root.stateDict();
      const names = [...dict.keys()];
      const qformerTargets = names.filter((n) => n === 'query_tokens' || n.startsWith('qformer.'));
      expect(report.qformer).toEqual({ dir: qformerDir, copied: qformerTargets.length, skipped: [] });
      const { tensors: source } = await readSafetensors(path.join(qformerDir, 'model.safetensors'));
      for (const name of qformerTargets) expect(Array.from(dict.get(name)!.dataSync())).toEqual(Array.from(source.get(name)!.data));
      const { tensors: lmTensors } = await readSafetensors(path.join(lmDir, 'model.safetensors'));
      const embed = dict.get('language_model.model.embed_tokens.weight')!;
      expect(Array.from(embed.dataSync())).toEqual(Array.from(lmTensors.get('model.embed_tokens.weight')!.data));
      expect(report.languageModel).toEqual({ dir: lmDir, copied: [...model.languageModel.root.stateDict().keys()].length });
      expect(Array.from(dict.get('language_projection.weight')!.dataSync())).toEqual(Array.from(fresh));
      // The model's tokenizer and image normalisation are the parts'.
      expect(model.tokenizer?.vocabSize).toBe(lmTensors.get('model.embed_tokens.weight')!.shape[0]);
      expect(model.imageProcessing).toEqual(plan.imageProcessing);

      const px = tf.randomNormal([1, 3, 8, 8], 0, 1, 'float32', 8);
      const ids = tf.tensor2d([[5, 6, 7]], undefined, 'int32');
      const logits = model.forward({ pixelValues: px, inputIds: ids }).logits;
      const saved = path.join(tmp, 'composed');
      await model.save(saved);
      const loaded = await Blip2ForConditionalGeneration.fromPretrained(saved, {}, context);
      const again = loaded.forward({ pixelValues: px, inputIds: ids }).logits;
      expect(worstDiff(Array.from(again.dataSync()), Array.from(logits.dataSync()))).toBe(0);
      expect(JSON.parse(fs.readFileSync(path.join(saved, 'preprocessor_config.json'), 'utf8'))).toMatchObject({
        image_mean: MEAN,
        image_std: STD,
      });
      loaded.dispose();
      tf.dispose([px, ids, logits, again]);
    } finally {
      model.dispose();
    }
  });

  test('the Q-Former text feed-forward is copied only when the target has it (use_qformer_text_input)', async () => {
    const small = { ...TINY_VQ, qformer_config: undefined };
    const without = await compose({ qformer: retrievalDir }, small);
    const withText = await compose({ qformer: retrievalDir }, { ...small, qformer_config: { use_qformer_text_input: true } });
    try {
      const skipped = (await applyBlip2Init(without.model, { qformer: retrievalDir })).qformer!.skipped;
      // 3 layers × (intermediate.dense, output.dense, output.LayerNorm) × (weight, bias)
      expect(skipped).toHaveLength(18);
      expect(skipped.every((n) => /^qformer\.encoder\.layer\.\d\.(intermediate|output)\./.test(n))).toBe(true);
      const report = await applyBlip2Init(withText.model, { qformer: retrievalDir });
      expect(report.qformer!.skipped).toEqual([]);
      const { tensors } = await readSafetensors(path.join(retrievalDir, 'model.safetensors'));
      const name = 'qformer.encoder.layer.1.intermediate.dense.weight';
      expect(Array.from(withText.model.root.stateDict().get(name)!.dataSync())).toEqual(Array.from(tensors.get(name)!.data));
    } finally {
      without.model.dispose();
      withText.model.dispose();
    }
  });

  test('a BLIP-2 folder as init.vision copies vision_model.* unchanged', async () => {
    const { model } = await compose({ vision: qformerDir }, TINY_Q);
    try {
      const report = await applyBlip2Init(model, { vision: qformerDir });
      expect(report.vision).toMatchObject({ format: 'blip-2', dropped: [] });
      const { tensors } = await readSafetensors(path.join(qformerDir, 'model.safetensors'));
      const name = 'vision_model.encoder.layers.0.self_attn.qkv.weight';
      expect(Array.from(model.root.stateDict().get(name)!.dataSync())).toEqual(Array.from(tensors.get(name)!.data));
    } finally {
      model.dispose();
    }
  });

  test('mismatched shapes and missing tensors are E_CHECKPOINT errors naming the tensor (and both shapes); nothing is written', async () => {
    // A 20-wide CLIP under a Q-Former that cross-attends to 16-wide features.
    const wide = path.join(tmp, 'clip20');
    await writeClipFolder(wide, { ...CLIP16, hidden: 20 }, 12);
    const a = await compose({ vision: wide, qformer: qformerDir }, { text_config: { model_type: 'tiny-lm' } });
    try {
      const key = 'qformer.encoder.layer.0.crossattention.attention.key.weight';
      const before = Array.from(a.model.root.stateDict().get('query_tokens')!.dataSync());
      await expect(applyBlip2Init(a.model, { qformer: qformerDir })).rejects.toMatchObject({
        code: 'E_CHECKPOINT',
        message: expect.stringContaining(`${key} has shape [12, 16] but ${key} of this BLIP-2 is [12, 20]`),
      });
      expect(Array.from(a.model.root.stateDict().get('query_tokens')!.dataSync())).toEqual(before);
    } finally {
      a.model.dispose();
    }
    // An explicit image_size the CLIP position table does not have.
    const b = await compose({ vision: clipDir }, { ...TINY_Q, vision_config: { image_size: 16 } });
    try {
      await expect(applyBlip2Init(b.model, { vision: clipDir })).rejects.toMatchObject({
        code: 'E_CHECKPOINT',
        message: expect.stringContaining(
          'vision_model.embeddings.position_embedding.weight has shape [1, 5, 16] but vision_model.embeddings.position_embedding of this BLIP-2 is [1, 17, 16]',
        ),
      });
    } finally {
      b.model.dispose();
    }
    const holed = path.join(tmp, 'clip-holed');
    await writeClipFolder(holed, CLIP16, 13, {
      drop: 'vision_model.encoder.layers.1.self_attn.k_proj.weight',
      modelType: 'clip_vision_model',
    });
    const c = await compose({ vision: holed }, TINY_Q);
    try {
      await expect(applyBlip2Init(c.model, { vision: holed })).rejects.toMatchObject({
        code: 'E_CHECKPOINT',
        message: expect.stringMatching(
          /has no tensor vision_model\.encoder\.layers\.1\.self_attn\.k_proj\.weight \(needed for .*qkv\.weight\)/,
        ),
      });
      await expect(applyBlip2Init(c.model, { language_model: lmDir })).rejects.toMatchObject({
        code: 'E_CONFIG',
        message: expect.stringContaining('no plugin registry was given'),
      });
    } finally {
      c.model.dispose();
    }
  });
});

describe('CLIP pre_layrnorm folded into the embeddings (vision_pre_layernorm: fold, the default)', () => {
  const v = 'vision_model';
  const ln64 = (row: Vec) => ln(row, arr(clipTensors, `${v}.pre_layrnorm.weight`), arr(clipTensors, `${v}.pre_layrnorm.bias`), 1e-5);
  const embeddingsOf = (model: Blip2ForConditionalGeneration, px: tf.Tensor) => {
    const out = model.root.visionModel.getModule('embeddings', Blip2VisionEmbeddings).forward(px);
    const rows = out.arraySync() as number[][][];
    out.dispose();
    return rows;
  };

  test('the schema defaults to fold; the class token is exact and each patch token is g ⊙ C·e / σ + b, against a float64 CLIP', async () => {
    expect(blip2InitSchema.parse({ vision: 'c' })).toEqual({ vision: 'c', vision_pre_layernorm: 'fold' });
    const sigma = 0.7;
    const init = { vision: clipDir, vision_pre_layernorm_scale: sigma };
    const { model } = await compose(init, TINY_Q);
    try {
      const report = await applyBlip2Init(model, init, context);
      expect(report.vision).toMatchObject({
        dropped: [],
        preLayerNorm: { mode: 'fold', scale: sigma, scaleFrom: 'given', classToken: 'exact' },
      });
      const dict = model.root.stateDict();
      expect(Array.from(dict.get(`${v}.embeddings.position_embedding`)!.dataSync().slice(0, 16))).toEqual(new Array(16).fill(0));
      const px = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 21);
      const image = px.arraySync() as number[][][][];
      const got = embeddingsOf(model, px);
      const g = arr(clipTensors, `${v}.pre_layrnorm.weight`);
      const b = arr(clipTensors, `${v}.pre_layrnorm.bias`);
      for (let n = 0; n < 2; n++) {
        const e = refClipEmbeddings(clipTensors, CLIP16, image[n]!);
        expect(worstDiff(got[n]![0]!, ln64(e[0]!))).toBeLessThan(1e-5);
        for (let t = 1; t < e.length; t++) {
          const mean = e[t]!.reduce((a, c) => a + c, 0) / 16;
          const expected = e[t]!.map((c, o) => (g[o]! * (c - mean)) / sigma + b[o]!);
          expect(worstDiff(got[n]![t]!, expected)).toBeLessThan(1e-5);
          // …which is LN_pre(e) only as far as the token's std differs from σ
          const std = Math.sqrt(e[t]!.reduce((a, c) => a + (c - mean) ** 2, 0) / 16 + 1e-5);
          expect(worstDiff(got[n]![t]!, ln64(e[t]!))).toBeGreaterThan(Math.abs(std / sigma - 1) * 0.01);
        }
      }
      px.dispose();
    } finally {
      model.dispose();
    }
  });

  test('a patch token whose std is σ makes the whole tower CLIP’s (one-patch CLIP, σ given as that std)', async () => {
    const shape = { ...CLIP16, image: 4 }; // one patch: one std to match
    const dir = path.join(tmp, 'clip-one-patch');
    const tensors = await writeClipFolder(dir, shape, 17);
    const px = tf.randomNormal([1, 3, 4, 4], 0, 1, 'float32', 5);
    const image = (px.arraySync() as number[][][][])[0]!;
    const e = refClipEmbeddings(tensors, shape, image)[1]!;
    const mean = e.reduce((a, c) => a + c, 0) / 16;
    const sigma = Math.sqrt(e.reduce((a, c) => a + (c - mean) ** 2, 0) / 16 + 1e-5);
    const init = { vision: dir, vision_pre_layernorm_scale: sigma };
    const { model } = await compose(init, TINY_Q);
    try {
      await applyBlip2Init(model, init, context);
      const { lastHiddenState, poolerOutput } = model.root.visionModel.forward(px);
      const ref = refClipVision(tensors, shape, image, true);
      expect(worstDiff((lastHiddenState.arraySync() as number[][][])[0]!.flat(), ref.post.flat())).toBeLessThan(2e-4);
      // the same with drop is another function
      const dropped = refClipVision(tensors, shape, image, false);
      expect(worstDiff(dropped.post.flat(), ref.post.flat())).toBeGreaterThan(0.05);
      tf.dispose([lastHiddenState, poolerOutput]);
    } finally {
      px.dispose();
      model.dispose();
    }
  });

  test('σ from the weights is sqrt(mean_i ‖C·pos[i]‖²/D + ‖C·W‖²_F/D + eps) (unit-variance independent pixels)', () => {
    const conv = clipTensors.get(`${v}.embeddings.patch_embedding.weight`)!;
    const pos = clipTensors.get(`${v}.embeddings.position_embedding.weight`)!;
    const w = conv.data as Float32Array;
    const p = pos.data as Float32Array;
    const d = 16;
    const k = w.length / d;
    // ‖C·W‖²_F column by column: Σ_o w² − (Σ_o w)² / D
    let pixelTerm = 0;
    for (let c = 0; c < k; c++) {
      let [sum, sq] = [0, 0];
      for (let o = 0; o < d; o++) ((sum += w[o * k + c]!), (sq += w[o * k + c]! ** 2));
      pixelTerm += sq - (sum * sum) / d;
    }
    let posTerm = 0;
    for (let i = 1; i < 5; i++) {
      const row = Array.from(p.subarray(i * d, (i + 1) * d));
      const mean = row.reduce((a, c) => a + c, 0) / d;
      posTerm += row.reduce((a, c) => a + (c - mean) ** 2, 0) / 4;
    }
    const expected = Math.sqrt((posTerm + pixelTerm) / d + 1e-5);
    expect(estimateClipEmbeddingStd(conv as never, pos as never, 1e-5)).toBeCloseTo(expected, 10);
    // flat patches: each channel one value, so the kernel's spatial sums stand for W
    expect(estimateClipEmbeddingStd(conv as never, pos as never, 1e-5, { pixels: 'flat' })).not.toBeCloseTo(expected, 3);
  });

  test('fold (σ from the weights) is closer to CLIP than drop, token by token', async () => {
    const px = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 33);
    const image = px.arraySync() as number[][][][];
    const encoderCosine = async (init: Blip2Init) => {
      const { model } = await compose(init, TINY_Q);
      try {
        await applyBlip2Init(model, init, context);
        const vision = model.root.visionModel;
        const out = tf.tidy(
          () => vision.getModule('encoder').forward(vision.getModule('embeddings', Blip2VisionEmbeddings).forward(px)) as tf.Tensor,
        );
        const got = out.arraySync() as number[][][];
        out.dispose();
        let sum = 0;
        for (let n = 0; n < 2; n++) {
          const clip = refClipVision(clipTensors, CLIP16, image[n]!, true).encoder;
          clip.forEach((row, t) => (sum += cosine(got[n]![t]!, row) / (2 * clip.length)));
        }
        return sum;
      } finally {
        model.dispose();
      }
    };
    const fold = await encoderCosine({ vision: clipDir });
    const drop = await encoderCosine({ vision: clipDir, vision_pre_layernorm: 'drop' });
    expect(fold).toBeGreaterThan(drop + 0.1);
    expect(fold).toBeGreaterThan(0.99);
    px.dispose();
  });

  test('a scale with drop or with a BLIP-2 folder is an E_CONFIG error; fold needs pre_layrnorm', async () => {
    const { model } = await compose({ vision: clipDir }, TINY_Q);
    const noPre = path.join(tmp, 'clip-no-pre');
    await writeClipFolder(noPre, CLIP16, 14, { drop: `${v}.pre_layrnorm.weight` });
    try {
      await expect(
        applyBlip2Init(model, { vision: clipDir, vision_pre_layernorm: 'drop', vision_pre_layernorm_scale: 1 }),
      ).rejects.toMatchObject({
        code: 'E_CONFIG',
        message: expect.stringContaining('vision_pre_layernorm_scale is given but init.vision_pre_layernorm is drop'),
      });
      await expect(applyBlip2Init(model, { vision: qformerDir, vision_pre_layernorm_scale: 1 })).rejects.toMatchObject({
        code: 'E_CONFIG',
        message: expect.stringContaining('is a BLIP-2 folder, which has no pre_layrnorm to fold'),
      });
      await expect(applyBlip2Init(model, { vision: noPre })).rejects.toMatchObject({
        code: 'E_CHECKPOINT',
        message: expect.stringContaining('has no tensor vision_model.pre_layrnorm.weight (needed for vision_pre_layernorm: fold)'),
      });
      const report = await applyBlip2Init(model, { vision: noPre, vision_pre_layernorm: 'drop' });
      expect(report.vision).toMatchObject({ dropped: ['vision_model.pre_layrnorm.bias'], preLayerNorm: { mode: 'drop' } });
    } finally {
      model.dispose();
    }
  });
});

describe('the recipe section: model: { type: blip2 | blip2-retrieval, config, init }', () => {
  test('blip2: the parts fill the config the section leaves out (raw, before Blip2Config defaults) and their weights land', async () => {
    const section = {
      config: { num_query_tokens: 3, qformer_config: TINY_BLIP2_CONFIG.qformer_config },
      init: { vision: clipDir, language_model: lmDir },
    };
    const model = (await blip2Provider.fromConfig(section as never, context)) as Blip2ForConditionalGeneration;
    try {
      // text_config is the LM folder's, not Blip2Config's default opt (which a parsed section would carry)
      expect(model.config.num_query_tokens).toBe(3);
      expect(model.config.text_config.model_type).toBe('tiny-lm');
      expect(model.config.vision_config.hidden_size).toBe(CLIP16.hidden);
      const { tensors: lmTensors } = await readSafetensors(path.join(lmDir, 'model.safetensors'));
      const embed = model.root.stateDict().get('language_model.model.embed_tokens.weight')!;
      expect(Array.from(embed.dataSync())).toEqual(Array.from(lmTensors.get('model.embed_tokens.weight')!.data));
      // the folded class token is CLIP's LayerNorm of class + pos0, not the raw CLIP class embedding
      const cls = model.root.stateDict().get('vision_model.embeddings.class_embedding')!;
      expect(Array.from(cls.dataSync())).not.toEqual(Array.from(arr(clipTensors, 'vision_model.embeddings.class_embedding')));
    } finally {
      model.dispose();
    }
  });

  test('blip2-retrieval: init.vision converts the CLIP tower; init.language_model is not a field of its section', async () => {
    const config = {
      num_query_tokens: 2,
      image_text_hidden_size: 6,
      qformer_config: { ...TINY_BLIP2_CONFIG.qformer_config, bos_token_id: 1 },
    };
    const model = await blip2RetrievalProvider.fromConfig({ config, init: { vision: clipDir, vision_pre_layernorm: 'drop' } } as never);
    try {
      expect(model.config.vision_config).toMatchObject({ hidden_size: CLIP16.hidden, hidden_act: 'quick_gelu' });
      const fc1 = model.root.stateDict().get('vision_model.encoder.layers.0.mlp.fc1.weight')!;
      expect(Array.from(fc1.dataSync())).toEqual(Array.from(arr(clipTensors, 'vision_model.encoder.layers.0.mlp.fc1.weight')));
    } finally {
      model.dispose();
    }
    await expect(blip2RetrievalProvider.fromConfig({ config, init: { language_model: lmDir } } as never)).rejects.toThrow(/language_model/);
  });
});
