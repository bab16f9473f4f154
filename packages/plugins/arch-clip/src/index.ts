// @mmft/arch-clip: Hugging Face CLIPModel and CLIPVisionModel for mmft — checkpoint folders in HF
// layout, the two towers, the tokenizer from tokenizer.json, and helpers to build tiny checkpoints for tests.
import { definePlugin } from '@mmft/core';
import { clipArchitecture, clipVisionArchitecture } from './plugin';

export * from './config';
export { clipArchitecture, clipVisionArchitecture } from './plugin';
export { ClipModel, type ClipFromConfigOptions, type ClipOutputs } from './clip-model';
export { ClipVisionModel, CLIP_VISION_TOWERS, type ClipVisionFromConfigOptions } from './clip-vision-model';
export { ClipRoot, l2Normalize, type ClipInputs } from './model/clip-root';
export { ClipVisionRoot, normalizeLayerIndices } from './model/clip-vision-root';
export { ClipTextTransformer, ClipTextEmbeddings, type TowerOutput } from './model/text-transformer';
export { ClipVisionTransformer, ClipVisionEmbeddings } from './model/vision-transformer';
export { ClipEncoder, ClipEncoderLayer, ClipMlp } from './model/encoder';
export { PatchEmbedding } from './model/patch-embedding';
export { eosPositions, gatherPositions } from './model/pooling';
export { initClipWeights, type ClipInitSettings } from './model/init-weights';
export { CLIP_MODEL_TYPES, parseClipConfig } from './checkpoint/parse-config';
export { CLIP_VISION_MODEL_TYPES, parseClipVisionConfig } from './checkpoint/parse-vision-config';
export { LEGACY_BUFFERS, loadClipWeights, type ClipWeightsLoadOptions, type WeightsLoadReport } from './checkpoint/load-weights';
export { readCheckpointFiles, type CheckpointFiles } from './checkpoint/read-checkpoint';
export { CLIP_TOWERS, clipProcessor } from './processor';
export { hfConfigJson, saveClipCheckpoint, TRANSFORMERS_VERSION } from './checkpoint/save-checkpoint';
export { hfVisionConfigJson, saveClipVisionCheckpoint } from './checkpoint/save-vision-checkpoint';
export { imageProcessorJson, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, parseImageProcessing } from './checkpoint/preprocessor';
// The tokenizer and the word-level tokenizer builder live in @mmft/core/hf (shared by every
// architecture); re-exported for scripts that import them from here.
export {
  buildWordLevelTokenizerFiles,
  buildWordLevelTokenizerJson,
  HfTokenizer,
  splitWords,
  TOKENIZER_FILES,
  tokenizerFromFiles,
  wordLevelTokenizerFileMap,
  type EncodeOptions,
  type HfTokenizerOptions,
  type WordLevelIds,
  type WordLevelOptions,
} from '@mmft/core/hf';
export {
  createTinyClipCheckpoint,
  createTinyClipVisionCheckpoint,
  TINY_WORDS,
  type TinyClipCheckpoint,
  type TinyClipOptions,
  type TinyClipVisionCheckpoint,
} from './testing/tiny-checkpoint';
export { clipPeftSubject, tinyClipDir, type ClipPeftSubject } from './testing/peft-subject';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [clipArchitecture, clipVisionArchitecture];

/** The plugin object the CLI and recipes load as "@mmft/arch-clip". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'CLIP dual encoder and CLIP vision tower on Hugging Face checkpoints',
  provides,
});
export default plugin;
