// The language model inside Blip2ForConditionalGeneration: built from text_config through the
// plugin of its model_type (transformers' AutoModelForCausalLM.from_config in
// src/transformers/models/blip_2/modeling_blip_2.py), its width, and its tied parameters.
import * as tf from '@tensorflow/tfjs-core';
import { isCausalLanguageModel, MmftError, type ArchitectureContext, type CausalLanguageModel } from '@mmft/core';
import type { Blip2Config } from '../config';

/** The language model's ties (CausalLMBase.tied), else every extra name of a shared variable tied to the first. */
function tiesOf(lm: CausalLanguageModel): Record<string, string> {
  const declared = (lm as { tied?: Readonly<Record<string, string>> }).tied;
  if (declared) return { ...declared };
  const first = new Map<unknown, string>();
  const ties: Record<string, string> = {};
  for (const [name, variable] of lm.root.stateDict()) {
    const source = first.get(variable);
    if (source) ties[name] = source;
    else first.set(variable, name);
  }
  return ties;
}

/** Builds the language model from text_config through the plugin that provides its model_type. */
export async function buildLanguageModel(
  config: Blip2Config,
  context: ArchitectureContext | undefined,
  section: { seed?: number; tokenizer?: string },
  source: string,
): Promise<CausalLanguageModel> {
  if (!context) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: BLIP-2 builds its language model (text_config.model_type "${config.text_config.model_type}") through the plugin registry, and none was given`,
      {
        hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
      },
    );
  }
  const provider = context.resolveModelType(config.text_config.model_type);
  const model = await provider.fromConfig({ config: config.text_config, ...section }, context);
  if (!isCausalLanguageModel(model)) {
    model.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${source}: text_config.model_type "${config.text_config.model_type}" is built by "${provider.id}" (family ${provider.family}), not a causal language model`,
      { hint: 'BLIP-2 here runs decoder-only language models (OPT, GPT-2, Llama, ...); encoder-decoder ones (T5) are not supported' },
    );
  }
  return model;
}

/** Width of the language model's input embeddings (language_projection's output). */
export function embeddingWidth(lm: CausalLanguageModel): number {
  return tf.tidy(() => lm.embedTokens(tf.zeros([1, 1], 'int32')).shape[2]!);
}

/** `tiesOf(lm)` under this BLIP-2's state-dict names (the `language_model.` prefix). */
export function languageModelTies(lm: CausalLanguageModel): Record<string, string> {
  return Object.fromEntries(Object.entries(tiesOf(lm)).map(([k, v]) => [`language_model.${k}`, `language_model.${v}`]));
}
