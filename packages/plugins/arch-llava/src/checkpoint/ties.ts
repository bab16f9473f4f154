// Weight ties and load-time ignore patterns of the LLaVA checkpoint (tie_weights / _keys_to_ignore_on_load
// of LlavaForConditionalGeneration in transformers src/transformers/models/llava/modeling_llava.py).
import type { VisionLanguageModel } from '@mmft/core';

/** Tensors a checkpoint may carry that the model rebuilds (rotary inverse frequencies, position ids). */
export const IGNORE_ON_LOAD = [/\.rotary_emb\.inv_freq$/, /\.position_ids$/];

/** The causal LM's ties (CausalLMBase.tied), else every extra name of a shared variable tied to the first. */
function tiesOf(model: VisionLanguageModel): Record<string, string> {
  const declared = (model as { tied?: Readonly<Record<string, string>> }).tied;
  if (declared) return { ...declared };
  const first = new Map<unknown, string>();
  const ties: Record<string, string> = {};
  for (const [name, variable] of model.root.stateDict()) {
    const source = first.get(variable);
    if (source) ties[name] = source;
    else first.set(variable, name);
  }
  return ties;
}

/** The language model's ties under this model's state-dict names (the `language_model.` prefix). */
export function languageModelTies(lm: VisionLanguageModel): Record<string, string> {
  return Object.fromEntries(Object.entries(tiesOf(lm)).map(([k, v]) => [`language_model.${k}`, `language_model.${v}`]));
}
