// What each part folder of a composed IDEFICS gives its IdeficsConfig (compose.ts does the
// composing): the vision fields of a CLIP or CLIPVisionModel folder, the top-level text fields of a
// Llama (refusing what IDEFICS's decoder cannot express), and loading a part through the plugin of
// its model_type.
import { isCausalLanguageModel, isVisionEncoderModel, MmftError, type ArchitectureContext, type VisionLanguageModel } from '@mmft/core';

export type Json = Record<string, unknown>;
export const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The IdeficsVisionConfig of a CLIP or CLIPVisionModel folder's config.json (CLIP's hidden_size is IDEFICS's embed_dim). */
export function visionFieldsOf(config: Json, modelType: string | undefined, dir: string): Json {
  let v: unknown = config;
  if (modelType === 'clip') v = config.vision_config ?? {};
  else if (modelType !== 'clip_vision_model') {
    throw new MmftError(
      'E_CONFIG',
      `init.vision: ${dir}/config.json has model_type ${JSON.stringify(modelType)}; init.vision takes clip or clip_vision_model`,
      {
        hint: 'give a CLIP folder (CLIPModel) or a CLIPVisionModel folder',
      },
    );
  }
  if (!isRecord(v)) throw new MmftError('E_CONFIG', `${dir}/config.json: vision_config must be an object`);
  const out: Json = {};
  const pick = (to: string, from: string) => {
    if (v[from] !== undefined) out[to] = v[from];
  };
  pick('embed_dim', 'hidden_size');
  for (const key of ['image_size', 'patch_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_channels'])
    pick(key, key);
  // The tower's own activation (quick_gelu for OpenAI CLIP), not IdeficsVisionConfig's default gelu.
  pick('hidden_act', 'hidden_act');
  for (const key of ['layer_norm_eps', 'attention_dropout', 'initializer_range']) pick(key, key);
  return out;
}

/** The top-level IdeficsConfig text fields of a `llama` config.json; what IDEFICS's decoder cannot express is an E_CONFIG error. */
export function textFieldsOf(config: Json, dir: string): { fields: Json; heads: number; kvHeads: number; headDim: number } {
  const file = `init.language_model: ${dir}/config.json`;
  if (config.model_type !== 'llama') {
    throw new MmftError('E_CONFIG', `${file} has model_type ${JSON.stringify(config.model_type)}; IDEFICS's decoder is a Llama`, {
      hint: 'give a llama folder (LlamaForCausalLM), or build the model from config without init.language_model',
    });
  }
  const num = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback;
    if (typeof value !== 'number') throw new MmftError('E_CONFIG', `${file}: field "${key}" must be a number`);
    return value;
  };
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const kvHeads = typeof config.num_key_value_heads === 'number' ? config.num_key_value_heads : heads;
  const headDim = typeof config.head_dim === 'number' ? config.head_dim : hidden / heads;
  const refuse = (what: string, hint: string) => {
    throw new MmftError(
      'E_CONFIG',
      `${file}: ${what}, which IDEFICS's decoder does not have (IdeficsAttention in transformers modeling_idefics.py)`,
      { hint },
    );
  };
  if (headDim * heads !== hidden)
    refuse(
      `head_dim ${headDim} × ${heads} heads is not hidden_size ${hidden}`,
      'use a Llama whose head_dim is hidden_size / num_attention_heads',
    );
  if (heads % kvHeads !== 0)
    refuse(`num_key_value_heads ${kvHeads} does not divide num_attention_heads ${heads}`, 'fix the Llama config.json');
  if ((config.rope_theta ?? 10000) !== 10000)
    refuse(`rope_theta is ${String(config.rope_theta)}`, 'IdeficsEmbedding uses rotary base 10000');
  if (config.rope_scaling !== undefined && config.rope_scaling !== null) refuse('rope_scaling is set', 'use a Llama without rope_scaling');
  if (config.attention_bias === true || config.mlp_bias === true) refuse('biases on attention or MLP projections', 'use a bias-free Llama');
  const fields: Json = {
    vocab_size: num('vocab_size'),
    hidden_size: hidden,
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: heads,
  };
  for (const key of ['hidden_act', 'rms_norm_eps', 'initializer_range', 'max_position_embeddings', 'tie_word_embeddings', 'use_cache']) {
    if (config[key] !== undefined) fields[key] = config[key];
  }
  for (const key of ['pad_token_id', 'bos_token_id', 'eos_token_id']) {
    const id = config[key];
    if (id === undefined || id === null) continue;
    if (typeof id !== 'number') {
      // IDEFICS keeps one eos: the token after which a text position sees no image (image-attention-mask.ts).
      throw new MmftError('E_CONFIG', `${file}: field "${key}" is ${JSON.stringify(id)}; IdeficsConfig takes one id`, {
        hint: `set model.config.${key} to the one id IDEFICS should use`,
      });
    }
    fields[key] = id;
  }
  return { fields, heads, kvHeads, headDim };
}

export async function loadPart(context: ArchitectureContext, modelType: string, dir: string, field: 'vision' | 'language_model') {
  const loaded: VisionLanguageModel = await context.resolveModelType(modelType).fromPretrained(dir, {}, context);
  if (field === 'vision' ? !isVisionEncoderModel(loaded) : !isCausalLanguageModel(loaded)) {
    loaded.dispose();
    throw new MmftError('E_CONFIG', `init.${field}: ${dir} loads as a "${loaded.modelType}" ${loaded.family} model`, {
      hint: field === 'vision' ? 'give a CLIP vision tower folder' : 'give a llama folder',
    });
  }
  return loaded;
}
