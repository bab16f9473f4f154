#!/usr/bin/env node
// How far the BLIP-2 vision tower composed from a CLIP folder (init: { vision: <clip> }) is from
// that CLIP's own vision tower, for each way of handling CLIP's pre_layrnorm, which
// Blip2VisionModel lacks (packages/plugins/arch-blip2/src/checkpoint/init-from-parts.ts):
//   drop                      pre_layrnorm left out;
//   fold, σ from the weights  folded into the embeddings, σ = estimateClipEmbeddingStd (the default);
//   fold, σ measured          folded with σ = the RMS std of CLIP's patch embeddings on these images
//                             (what a recipe would pass as init.vision_pre_layernorm_scale).
// For each it prints the cosine between CLIP's last hidden states (encoder output, before
// post_layernorm) and the converted tower's encoder output, the same after post_layernorm on every
// token, and for the pooled class token, over a few rendered shapes scenes (domain A, test split seed).
// The composed model is the real target: the CLIP vision of models/clip-shapes-base under a small
// Q-Former, with models/opt-shapes-base as its language model, built as the recipe section does
// (resolveBlip2Config → Blip2ForConditionalGeneration.fromConfig → applyBlip2Init).
// Usage (after building arch-blip2, arch-clip, arch-opt, data-shapes, image):
//   node scripts/compare-clip-blip2-vision.mjs [--clip models/clip-shapes-base] [--lm models/opt-shapes-base] [--images 8]
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'package.json'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const clipDir = path.resolve(root, arg('clip', 'models/clip-shapes-base'));
const lmDir = path.resolve(root, arg('lm', 'models/opt-shapes-base'));
const count = Number(arg('images', '8'));

const tf = require('@tensorflow/tfjs-core');
const { architectureContext, ensureBackend } = require('@mmft/core');
const { ClipModel } = require('@mmft/arch-clip');
const { optProvider } = require('@mmft/arch-opt');
const { Blip2ForConditionalGeneration, blip2Provider } = require('@mmft/arch-blip2');
const { resolveBlip2Config, applyBlip2Init, estimateClipEmbeddingStd } = require(
  path.join(root, 'packages/plugins/arch-blip2/dist/checkpoint/init-from-parts.js'),
);
const { sampleScene, renderScenePng } = require('@mmft/data-shapes');
const { preprocess } = require('@mmft/image');

await ensureBackend();
const context = architectureContext({ list: () => [optProvider, blip2Provider] });
const clip = await ClipModel.fromPretrained(clipDir);
const init = { vision: clipDir, language_model: lmDir };
const small = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128 };
const plan = await resolveBlip2Config({ num_query_tokens: 8, qformer_config: small }, init);
const blip2 = await Blip2ForConditionalGeneration.fromConfig(plan.config, context, {
  seed: 0,
  tokenizer: plan.tokenizer,
  imageProcessing: plan.imageProcessing,
});

const size = blip2.config.vision_config.image_size;
const images = [];
for (let i = 0; i < count; i++) {
  const png = await renderScenePng(sampleScene(7, i, 'A', 4), size);
  const { mean, std } = plan.imageProcessing;
  images.push((await preprocess(png, { size, cropSize: size, mean: [...mean], std: [...std] })).data);
}
const pixels = tf.tensor4d(Float32Array.from(images.flatMap((d) => Array.from(d))), [count, 3, size, size]);

const clipVision = clip.root.getModule('vision_model');
const clipOut = clipVision.forward(pixels);
const clipPost = clipVision.getModule('post_layernorm').forward(clipOut.lastHiddenState);
const eps = blip2.config.vision_config.layer_norm_eps;

/** Per-token std over the hidden dims of CLIP's patch embeddings (pre_layrnorm's input): mean and RMS over tokens. */
function patchStd() {
  const embeddings = clipVision.getModule('embeddings').forward(pixels);
  const [n, t, d] = embeddings.shape;
  const e = embeddings.dataSync();
  let [sum, sumVar, min, max] = [0, 0, Infinity, 0];
  for (let r = 0; r < n * t; r++) {
    if (r % t === 0) continue; // the class token is folded exactly
    let mean = 0;
    for (let k = r * d; k < (r + 1) * d; k++) mean += e[k] / d;
    let variance = 0;
    for (let k = r * d; k < (r + 1) * d; k++) variance += (e[k] - mean) ** 2 / d;
    const std = Math.sqrt(variance + eps);
    ((sum += std), (sumVar += variance), (min = Math.min(min, std)), (max = Math.max(max, std)));
  }
  embeddings.dispose();
  const tokens = n * (t - 1);
  return { mean: sum / tokens, rms: Math.sqrt(sumVar / tokens + eps), min, max };
}

/** Mean over images and tokens of the per-token cosine, and the cosine of everything flattened. */
function cosines(a, b) {
  const [n, t, d] = a.shape;
  const x = a.dataSync();
  const y = b.dataSync();
  let sum = 0;
  let [xy, xx, yy] = [0, 0, 0];
  for (let r = 0; r < n * t; r++) {
    let [p, q, s] = [0, 0, 0];
    for (let k = r * d; k < (r + 1) * d; k++) ((p += x[k] * y[k]), (q += x[k] * x[k]), (s += y[k] * y[k]));
    sum += p / Math.sqrt(q * s);
    ((xy += p), (xx += q), (yy += s));
  }
  return { perToken: sum / (n * t), flat: xy / Math.sqrt(xx * yy) };
}
const fmt = ({ perToken, flat }) => `per-token mean ${perToken.toFixed(4)}, flattened ${flat.toFixed(4)}`;
const pooled = (states) => tf.tidy(() => tf.slice(states, [0, 0, 0], [count, 1, states.shape[2]]));

const measured = patchStd();
const { readShardedSafetensors } = require('@mmft/core/io');
const { tensors } = await readShardedSafetensors(clipDir);
const conv = tensors.get('vision_model.embeddings.patch_embedding.weight');
const positions = tensors.get('vision_model.embeddings.position_embedding.weight');
console.log(`CLIP ${path.relative(root, clipDir)} → BLIP-2 vision tower; ${count} shapes scenes (domain A) at ${size} px`);
console.log(
  `CLIP patch-embedding std per token: mean ${measured.mean.toFixed(4)}, RMS ${measured.rms.toFixed(4)}, range ${measured.min.toFixed(3)}–${measured.max.toFixed(3)}`,
);
const estimates = ['iid', 'flat', 'flat-grey'].map(
  (pixels) => `${pixels} ${estimateClipEmbeddingStd(conv, positions, eps, { pixels }).toFixed(4)}`,
);
console.log(`σ estimated from the weights, by pixel model: ${estimates.join(', ')} (default iid)`);

const modes = [
  ['drop', { vision_pre_layernorm: 'drop' }],
  ['fold, σ from the weights', {}],
  ['fold, σ measured (RMS)', { vision_pre_layernorm_scale: measured.rms }],
];
for (const [label, options] of modes) {
  const report = await applyBlip2Init(blip2, { vision: clipDir, ...options }, context);
  const vision = blip2.root.visionModel;
  const blipEncoder = tf.tidy(() => vision.getModule('encoder').forward(vision.getModule('embeddings').forward(pixels)));
  const blipOut = vision.forward(pixels);
  const fold = report.vision.preLayerNorm;
  console.log(
    `\n${label}: copied ${report.vision.copied} tensors; dropped [${report.vision.dropped.join(', ')}]${fold.mode === 'fold' ? `; σ ${fold.scale.toFixed(4)} (${fold.scaleFrom})` : ''}`,
  );
  console.log(
    `  encoder output (CLIP last_hidden_state vs BLIP-2 before post_layernorm): ${fmt(cosines(clipOut.lastHiddenState, blipEncoder))}`,
  );
  console.log(
    `  after post_layernorm on every token (BLIP-2 last_hidden_state):         ${fmt(cosines(clipPost, blipOut.lastHiddenState))}`,
  );
  console.log(
    `  class token after post_layernorm (CLIP pooler_output):                  ${fmt(cosines(pooled(clipPost), pooled(blipOut.lastHiddenState)))}`,
  );
  tf.dispose([blipEncoder, blipOut.lastHiddenState, blipOut.poolerOutput]);
}
tf.dispose([pixels, clipOut.lastHiddenState, clipOut.pooledOutput, clipPost]);
clip.dispose();
blip2.dispose();
