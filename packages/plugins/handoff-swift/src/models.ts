// mmft's model and template names as ms-swift's. A local model folder does not tell ms-swift its model_type
// when several types share the architecture (modelscope/ms-swift@3602360:swift/model/model_meta.py
// _get_model_info), so the bundle names it. Model types and templates: swift/model/models/{llava,llama}.py,
// swift/template/templates/{llava,utils}.py.

export interface SwiftModel {
  readonly modelType: string;
  /** The template ms-swift registers for that model type. */
  readonly template: string;
  readonly multimodal: boolean;
  /** The template writes each `<image>` as `<image>\n` (LlavaHfTemplate.replace_tag). */
  readonly imageTagNewline: boolean;
}

const MODELS: Readonly<Record<string, SwiftModel>> = {
  LlavaForConditionalGeneration: { modelType: 'llava1_5_hf', template: 'llava1_5_hf', multimodal: true, imageTagNewline: true },
  LlamaForCausalLM: { modelType: 'llama', template: 'llama', multimodal: false, imageTagNewline: false },
};

/** The ms-swift model for a config.json architecture, if mmft knows one. */
export function swiftModelFor(architecture: string | undefined): SwiftModel | undefined {
  return architecture ? MODELS[architecture] : undefined;
}

export interface SwiftTemplateChoice {
  /** --template to write; absent: the model type's own. */
  readonly value?: string;
  readonly note?: string;
  /** Set when ms-swift renders the chats differently from mmft. */
  readonly gap?: string;
}

/**
 * ms-swift's template for mmft's `objective.template` on this model.
 *
 * @example
 * swiftTemplateFor('llava_v1', swiftModelFor('LlavaForConditionalGeneration')); // { value: 'llava1_5_hf', note: ... }
 */
export function swiftTemplateFor(template: string, model: SwiftModel | undefined, override?: string): SwiftTemplateChoice {
  if (override) return { value: override, note: "the swift target's template option" };
  if (model?.multimodal) {
    if (template === 'llava_v1' || template === 'vicuna_v1' || template === 'chat') {
      return {
        value: model.template,
        note: `mmft's ${template} renders "USER: q ASSISTANT: a</s>"; ${model.template} renders "USER: q\\nASSISTANT: a</s>" (a newline before ASSISTANT)`,
      };
    }
    return { value: model.template, gap: `ms-swift has no ${template} template for ${model.modelType}; the bundle uses ${model.template}` };
  }
  if (template === 'chatml') return { value: 'chatml' };
  const fallback = model?.template;
  return {
    ...(fallback ? { value: fallback } : {}),
    gap: `ms-swift has no template matching mmft's ${template}${fallback ? `; the bundle uses ${fallback}` : '; set --template in train.sh'}`,
  };
}
