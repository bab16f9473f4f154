// @mmft/core/hf: Hugging Face checkpoint folders shared by every architecture — the folder reader
// (config.json, generation_config.json, preprocessor_config.json, tokenizer files; weights through
// io/sharded.ts), the tokenizer over tokenizer.json with its special tokens, padding side and chat
// template, a special token added to the tokenizer files with the mean rows its embedding gains,
// transformers' config JSON layout, and AutoModel dispatching on model_type.
export { AutoModel, DEFAULT_ARCHITECTURE_PLUGINS, type AutoModelOptions } from './auto-model';
export { hfJson } from './hfjson';
export {
  parseJsonFile,
  readHfFolder,
  readModelType,
  readOptionalFile,
  readTokenizerFiles,
  TOKENIZER_FILES,
  type HfFolder,
  type ReadHfFolderOptions,
} from './read-folder';
export { HfTokenizer, type DecodeOptions, type EncodeOptions, type HfTokenizerOptions } from './tokenizer';
export {
  chatTemplatesOf,
  renderChatTemplate,
  selectChatTemplate,
  type ChatMessage,
  type ChatTemplateOptions,
  type ChatTemplates,
} from './chat-template';
export { tokenizerFromFiles, type TokenizerFromFilesOptions } from './tokenizer-files';
export { appendMeanRows, findTokenId, withAddedSpecialToken } from './added-tokens';
export {
  buildWordLevelTokenizerFiles,
  buildWordLevelTokenizerJson,
  ISOLATED_CHARS,
  splitWords,
  wordLevelTokenizerFileMap,
  type WordLevelIds,
  type WordLevelOptions,
} from './word-level';
export { readShardedSafetensors, type ShardedSafetensors } from '../io/sharded';
export {
  byteLevelBpeTokenizerFiles,
  bytesToUnicode,
  gpt2TokenizerFilesFromVocab,
  llamaTokenizerFiles,
  LLAMA2_CHAT_TEMPLATE,
  SHAPES_TOKENIZER_CORPUS,
  type ByteLevelBpeTokenizerOptions,
  type LlamaTokenizerOptions,
} from './tiny-tokenizers';
export { hfConfigFields, RECIPE_MODEL_KEYS } from './config-fields';
