// Building the LLaVA module tree: vision tower and causal LM through the registry, plus the projector
// (LlavaModel.__init__ in transformers src/transformers/models/llava/modeling_llava.py).
import * as tf from '@tensorflow/tfjs-core';
import {
  isCausalLanguageModel,
  isVisionEncoderModel,
  MmftError,
  type ArchitectureContext,
  type CausalLanguageModel,
  type VisionEncoderModel,
  type VisionLanguageModel,
} from '@mmft/core';
import { Module, type AnyModule } from '@mmft/core/nn';
import type { LlavaConfigJson } from '../config';
import { LlavaProjector, projectorShape } from '../projector';

class LlavaRoot extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** The vision tower (vision_config.model_type) and causal LM (text_config.model_type) built through `context`. */
export async function buildTowers(
  config: LlavaConfigJson,
  context: ArchitectureContext | undefined,
  section: { seed?: number; tokenizer?: string },
  source: string,
) {
  if (!context) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: LLaVA builds its vision tower and language model through the plugin registry, and none was given`,
      {
        hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
      },
    );
  }
  const visionProvider = context.resolveModelType(config.vision_config.model_type);
  const vision = await visionProvider.fromConfig(
    { config: config.vision_config, ...(section.seed === undefined ? {} : { seed: section.seed }) },
    context,
  );
  if (!isVisionEncoderModel(vision)) {
    vision.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${source}: vision_config.model_type "${config.vision_config.model_type}" is built by "${visionProvider.id}" (family ${visionProvider.family}), not a vision encoder`,
      { hint: 'LLaVA reads hidden states of a vision-encoder model: clip_vision_model (arch-clip)' },
    );
  }
  let lm: VisionLanguageModel | undefined;
  try {
    const lmProvider = context.resolveModelType(config.text_config.model_type);
    lm = await lmProvider.fromConfig({ config: config.text_config, ...section }, context);
    if (!isCausalLanguageModel(lm)) {
      throw new MmftError(
        'E_CONFIG',
        `${source}: text_config.model_type "${config.text_config.model_type}" is built by "${lmProvider.id}" (family ${lmProvider.family}), not a causal language model`,
        { hint: 'LLaVA runs decoder-only language models (llama, opt, gpt2, ...)' },
      );
    }
    return { vision, lm };
  } catch (error) {
    vision.dispose();
    lm?.dispose();
    throw error;
  }
}

/** Width of the language model's input embeddings. */
function embeddingWidth(lm: CausalLanguageModel): number {
  return tf.tidy(() => lm.embedTokens(tf.zeros([1, 1], 'int32')).shape[2]!);
}

/** The root module: vision_tower, multi_modal_projector, language_model (the Hub key layout). */
export function assembleLlavaRoot(config: LlavaConfigJson, vision: VisionEncoderModel, lm: CausalLanguageModel, seed?: number): AnyModule {
  const root = new LlavaRoot();
  const layers = Array.isArray(config.vision_feature_layer) ? config.vision_feature_layer.length : 1;
  const init = typeof config.text_config.initializer_range === 'number' ? config.text_config.initializer_range : 0.02;
  root.registerModule('vision_tower', vision.root);
  root.registerModule(
    'multi_modal_projector',
    new LlavaProjector(
      vision.hiddenSize * layers,
      embeddingWidth(lm),
      projectorShape(config.mm_projector_type, config.projector_hidden_act),
      config.multimodal_projector_bias,
      init,
      seed,
    ),
  );
  root.registerModule('language_model', lm.root);
  return root;
}
