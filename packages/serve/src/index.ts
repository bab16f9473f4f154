// @mmft/serve: an OpenAI-compatible HTTP server for mmft models (docs/serving.md).
export { createServer, installSignalHandlers, type ServeOptions } from './server';
export type { ChatRequest, ChatTurn, ChatUsage, EmbeddingInput, FinishReason, InferenceEngine, ServedModel } from './engine';
export { DEFAULT_LIMITS, resolveLimits, type ServeLimits } from './limits';
export { ApiError } from './api-error';
export { filterChain } from './filters';
export { StopMatcher } from './stop';
export { UI_DIR } from './ui';
export { TfjsEngine } from './tfjs-engine';
export { OnnxEngine, detectOnnxExport, l2Normalize, vlmImageTokens, type OnnxExport, type OnnxLayout } from './onnx-engine';
