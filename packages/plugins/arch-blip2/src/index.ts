// @mmft/arch-blip2: Hugging Face Blip2ForConditionalGeneration for mmft — the EVA ViT vision
// encoder, the Q-Former bridge, the language projection and any causal LM plugin as the language
// model (built through the registry from text_config.model_type), checkpoint folders in HF layout
// (both input layouts), generate() through the language model, Blip2ForImageTextRetrieval (the
// stage-1 Q-Former: ITC, ITM and the image-grounded text decoder), and tiny checkpoint writers
// (@mmft/arch-blip2/testing).
import { definePlugin } from '@mmft/core';
import { blip2Provider, blip2RetrievalProvider } from './plugin';

export * from './config';
export { blip2Provider, blip2RetrievalProvider } from './plugin';
export { Blip2ForImageTextRetrieval } from './retrieval/blip2-for-image-text-retrieval';
export {
  BLIP2_RETRIEVAL_TOWERS,
  type Blip2RetrievalFromConfigOptions,
  type Blip2RetrievalInputs,
  type Blip2RetrievalLoadReport,
} from './retrieval/retrieval-types';
export { unilmMask } from './retrieval/heads';
export { Blip2RetrievalRoot, INITIAL_TEMPERATURE, isStageOneExtra } from './retrieval/retrieval-root';
export { Blip2TextEmbeddings } from './retrieval/text-embeddings';
export { Blip2QFormerLmHead, Blip2QFormerLmTransform } from './retrieval/lm-head';
export { BLIP2_RETRIEVAL_ARCHITECTURE, parseBlip2RetrievalConfig } from './retrieval/parse-retrieval-config';
export { Blip2ForConditionalGeneration, type Blip2FromConfigOptions, type Blip2Outputs } from './blip2-for-conditional-generation';
export { fuseLegacyQkvBias } from './checkpoint/legacy-tensors';
export { Blip2Root } from './model/blip2-root';
export {
  Blip2Attention,
  Blip2Encoder,
  Blip2EncoderLayer,
  Blip2MLP,
  Blip2PatchEmbedding,
  Blip2VisionEmbeddings,
  Blip2VisionModel,
  type Blip2VisionOutput,
} from './model/vision';
export {
  Blip2QFormerAttention,
  Blip2QFormerEncoder,
  Blip2QFormerIntermediate,
  Blip2QFormerLayer,
  Blip2QFormerModel,
  Blip2QFormerMultiHeadAttention,
  Blip2QFormerResidualOutput,
  QFORMER_MASK_VALUE,
  type Blip2QFormerInputs,
  type Blip2QFormerLayerInputs,
} from './model/qformer';
export { initBlip2Weights } from './model/init-weights';
export { BLIP2_MODEL_TYPES, parseBlip2Config } from './checkpoint/parse-config';
export {
  BLIP2_TOWERS,
  blip2Processor,
  blipImageProcessorJson,
  OPENAI_CLIP_MEAN,
  OPENAI_CLIP_STD,
  parseBlipImageProcessing,
  withImageTokens,
} from './processor';

const pkg = require('../package.json') as { name: string; version: string };

/** The plugin object the CLI and recipes load as "@mmft/arch-blip2". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    'BLIP-2 (Hugging Face Blip2ForConditionalGeneration, Blip2ForImageTextRetrieval): EVA ViT vision encoder, Q-Former bridge, language projection, any causal LM through the registry; the stage-1 Q-Former with ITC/ITM/ITG heads',
  provides: [blip2Provider, blip2RetrievalProvider],
});
export default plugin;
