// @mmft/core/generation: transformers' generate() for decoder-only models (greedy, sampling, beam
// search, the logits processors in HF's order, stop strings, streaming). See docs/generation.md.
export { generate, generateStream } from './generate';
export { resolveGenerationOptions, resolveLengths } from './options';
export {
  banEosBelow,
  logSoftmax,
  logitsProcessors,
  minP,
  noRepeatNgram,
  repetitionPenalty,
  softmax,
  temperature,
  topK,
  topKIndices,
  topP,
  type LogitsProcessor,
} from './logits-processors';
export { SeededRandom, sampleIndex, sampleWithoutReplacement } from './random';
export { StopStringMatcher, stoppingCriteria } from './stopping';
export { RowTextStreamer } from './streamer';
export type { GenerationContext, GenerationLengths, GenerationMode, GenerationModel, GenerationSettings } from './types';
