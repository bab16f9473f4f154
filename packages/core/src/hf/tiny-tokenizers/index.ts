// Tiny causal-LM tokenizer folders in the layouts Hugging Face writes (byte-level BPE for GPT-2/OPT,
// byte-fallback BPE for Llama), learned on a small corpus, for tests, tiny checkpoints and scripts.
export { bytesToUnicode, SHAPES_TOKENIZER_CORPUS } from './common';
export { byteLevelBpeTokenizerFiles, gpt2TokenizerFilesFromVocab, type ByteLevelBpeTokenizerOptions } from './byte-level';
export { LLAMA2_CHAT_TEMPLATE, llamaTokenizerFiles, type LlamaTokenizerOptions } from './llama';
