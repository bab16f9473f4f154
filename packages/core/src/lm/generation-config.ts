// What a causal LM's generation_config.json holds when the checkpoint has none: transformers'
// GenerationConfig.from_model_config (generation/configuration_utils.py) takes the generation
// fields the model config sets (special token ids above all), keeps only those that differ from
// GenerationConfig's defaults (to_diff_dict) and marks the result `_from_model_config`.

/** The transformers release whose file layout mmft writes (config.json, generation_config.json). */
export const TRANSFORMERS_VERSION = '4.46.3';

/** GenerationConfig fields a model config may carry, with GenerationConfig's defaults (null: unset). */
const GENERATION_DEFAULTS: Readonly<Record<string, unknown>> = {
  bos_token_id: null,
  eos_token_id: null,
  pad_token_id: null,
  decoder_start_token_id: null,
  forced_bos_token_id: null,
  forced_eos_token_id: null,
  max_length: 20,
  min_length: 0,
  do_sample: false,
  early_stopping: false,
  num_beams: 1,
  num_beam_groups: 1,
  temperature: 1.0,
  top_k: 50,
  top_p: 1.0,
  typical_p: 1.0,
  repetition_penalty: 1.0,
  length_penalty: 1.0,
  no_repeat_ngram_size: 0,
  num_return_sequences: 1,
  bad_words_ids: null,
  diversity_penalty: 0.0,
  use_cache: true,
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * generation_config.json as transformers derives it from config.json (parsed, with defaults).
 *
 * @example
 * generationConfigFromModelConfig({ bos_token_id: 2, eos_token_id: 2, pad_token_id: 1, hidden_size: 16 });
 * // { _from_model_config: true, bos_token_id: 2, eos_token_id: 2, pad_token_id: 1, transformers_version: '4.46.3' }
 */
export function generationConfigFromModelConfig(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { _from_model_config: true };
  for (const [key, fallback] of Object.entries(GENERATION_DEFAULTS)) {
    const value = config[key];
    if (value !== undefined && value !== null && !same(value, fallback)) out[key] = value;
  }
  out.transformers_version = TRANSFORMERS_VERSION;
  return out;
}
