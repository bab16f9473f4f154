// A CLIP vision tower's tensors under Blip2VisionModel names (src/transformers/models/clip/
// modeling_clip.py CLIPVisionTransformer, CLIPVisionEmbeddings, CLIPAttention against
// src/transformers/models/blip_2/modeling_blip_2.py Blip2VisionEmbeddings, Blip2Attention): the
// patch conv has no bias in CLIP (a zero bias here), class_embedding [D] and
// position_embedding.weight [N + 1, D] become the bare [1, 1, D] / [1, N + 1, D] parameters, q/k/v
// fuse into `qkv` with the k third of the bias set to zero (exact: q·b_k is one constant per score
// row, which softmax ignores; transformers' Blip2Attention also keeps that third at zero), out_proj
// becomes `projection`, and layer_norm1/2, mlp.fc1/fc2 and post_layernorm keep their names. CLIP's
// `pre_layrnorm` is folded into the embeddings (clip-pre-layernorm.ts) or dropped.
import { MmftError } from '@mmft/core';
import type { SafetensorsTensor } from '@mmft/core/io';
import { estimateClipEmbeddingStd, foldPreLayerNorm, type ClipPreLayerNormOptions } from './clip-pre-layernorm';
import type { PreLayerNormReport } from './init-schema';
import { asTensor, sameShape, shapeText, type Tensor } from './part-folders';

function missing(file: string, name: string, needed: string): never {
  throw new MmftError('E_CHECKPOINT', `${file} has no tensor ${name} (needed for ${needed})`, {
    hint: 'init.vision takes the folder a CLIPModel / CLIPVisionModel was saved to with save_pretrained (keys vision_model.*)',
  });
}

/** CLIP `vision_model.*` tensors under Blip2VisionModel names (see the file comment), and what had no place. */
export function clipToBlip2Vision(
  tensors: Map<string, SafetensorsTensor>,
  numLayers: number,
  file: string,
  preLayerNorm: ClipPreLayerNormOptions,
) {
  const writes = new Map<string, Tensor & { from: string }>();
  const used = new Set<string>(['vision_model.embeddings.position_ids']);
  const get = (name: string, needed: string): Tensor => {
    const t = tensors.get(`vision_model.${name}`);
    if (!t) missing(file, `vision_model.${name}`, needed);
    used.add(`vision_model.${name}`);
    return asTensor(t, `vision_model.${name}`, file);
  };
  const put = (target: string, shape: readonly number[], data: Float32Array, from: string) =>
    writes.set(`vision_model.${target}`, { shape, data, from });
  const copy = (name: string, target = name) => {
    const t = get(name, `vision_model.${target}`);
    put(target, t.shape, t.data, `vision_model.${name}`);
  };

  const cls = get('embeddings.class_embedding', 'vision_model.embeddings.class_embedding');
  const conv = get('embeddings.patch_embedding.weight', 'vision_model.embeddings.patch_embedding.weight');
  const convBias = tensors.has('vision_model.embeddings.patch_embedding.bias')
    ? get('embeddings.patch_embedding.bias', 'vision_model.embeddings.patch_embedding.bias').data
    : undefined;
  const pos = get('embeddings.position_embedding.weight', 'vision_model.embeddings.position_embedding');
  const d = conv.shape[0]!;
  const convBiasFrom = convBias ? 'vision_model.embeddings.patch_embedding.bias' : '(zeros: CLIP patch conv has no bias)';
  let report: PreLayerNormReport = { mode: 'drop' };
  if (preLayerNorm.mode === 'fold') {
    const needed = 'vision_pre_layernorm: fold';
    const weight = get('pre_layrnorm.weight', needed);
    const bias = get('pre_layrnorm.bias', needed);
    if (cls.data.length !== d || pos.shape[1] !== d || weight.data.length !== d || bias.data.length !== d) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${file}: the embeddings disagree in width (class_embedding ${shapeText(cls.shape)}, patch_embedding.weight ${shapeText(conv.shape)}, ` +
          `position_embedding.weight ${shapeText(pos.shape)}, pre_layrnorm.weight ${shapeText(weight.shape)})`,
      );
    }
    const scale = preLayerNorm.scale ?? estimateClipEmbeddingStd(conv, pos, preLayerNorm.eps, { convBias });
    const folded = foldPreLayerNorm({ cls, conv, convBias, pos, weight, bias }, preLayerNorm.eps, scale);
    const from = (name: string) => `vision_model.${name}`; // shapes are the source's; the fold is in the report
    put('embeddings.class_embedding', [1, 1, d], folded.cls, from('embeddings.class_embedding'));
    put('embeddings.patch_embedding.weight', conv.shape, folded.conv, from('embeddings.patch_embedding.weight'));
    put(
      'embeddings.patch_embedding.bias',
      [d],
      folded.convBias,
      convBias ? 'vision_model.pre_layrnorm.bias and patch_embedding.bias' : 'vision_model.pre_layrnorm.bias',
    );
    put('embeddings.position_embedding', [1, ...pos.shape], folded.pos, from('embeddings.position_embedding.weight'));
    report = { mode: 'fold', scale, scaleFrom: preLayerNorm.scale === undefined ? 'weights' : 'given', classToken: 'exact' };
  } else {
    put('embeddings.class_embedding', [1, 1, ...cls.shape], cls.data, 'vision_model.embeddings.class_embedding');
    put('embeddings.patch_embedding.weight', conv.shape, conv.data, 'vision_model.embeddings.patch_embedding.weight');
    put('embeddings.patch_embedding.bias', [d], convBias ?? new Float32Array(d), convBiasFrom);
    put('embeddings.position_embedding', [1, ...pos.shape], pos.data, 'vision_model.embeddings.position_embedding.weight');
  }

  for (let l = 0; l < numLayers; l++) {
    const at = `encoder.layers.${l}`;
    const proj = (p: 'q' | 'k' | 'v', kind: 'weight' | 'bias') =>
      get(`${at}.self_attn.${p}_proj.${kind}`, `vision_model.${at}.self_attn.qkv.${kind}`);
    const [q, k, v] = [proj('q', 'weight'), proj('k', 'weight'), proj('v', 'weight')];
    if (!sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${file}: ${at}.self_attn q/k/v_proj.weight differ in shape (${[q, k, v].map((t) => shapeText(t.shape)).join(', ')})`,
      );
    }
    const weight = new Float32Array(3 * q.data.length);
    [q, k, v].forEach((t, i) => weight.set(t.data, i * q.data.length));
    put(`${at}.self_attn.qkv.weight`, [3 * q.shape[0]!, ...q.shape.slice(1)], weight, `vision_model.${at}.self_attn.{q,k,v}_proj.weight`);
    const [qb, , vb] = [proj('q', 'bias'), proj('k', 'bias'), proj('v', 'bias')];
    const bias = new Float32Array(3 * qb.data.length); // k third stays zero (file comment)
    bias.set(qb.data, 0);
    bias.set(vb.data, 2 * qb.data.length);
    put(`${at}.self_attn.qkv.bias`, [3 * qb.shape[0]!], bias, `vision_model.${at}.self_attn.{q,v}_proj.bias`);
    for (const kind of ['weight', 'bias']) {
      copy(`${at}.self_attn.out_proj.${kind}`, `${at}.self_attn.projection.${kind}`);
      for (const name of ['layer_norm1', 'layer_norm2', 'mlp.fc1', 'mlp.fc2']) copy(`${at}.${name}.${kind}`);
    }
  }
  for (const kind of ['weight', 'bias']) copy(`post_layernorm.${kind}`);

  const dropped: string[] = [];
  for (const name of tensors.keys()) {
    if (!name.startsWith('vision_model.') || used.has(name)) continue;
    const layer = /^vision_model\.encoder\.layers\.(\d+)\./.exec(name);
    if (name.startsWith('vision_model.pre_layrnorm.') || (layer && Number(layer[1]) >= numLayers)) dropped.push(name);
    else
      throw new MmftError('E_CHECKPOINT', `${file}: ${name} has no counterpart in Blip2VisionModel`, {
        hint: 'this CLIP variant is not supported by init.vision',
      });
  }
  return { writes, dropped: dropped.sort(), preLayerNorm: report };
}
