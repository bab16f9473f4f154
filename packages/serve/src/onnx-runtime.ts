// The onnxruntime-node module the ONNX engine's files share (onnx-engine.ts, onnx-clip.ts), loaded on
// first use so that importing @mmft/serve for a tfjs model does not load the native runtime.
import type * as Ort from 'onnxruntime-node';

let runtime: typeof Ort | undefined;

/** onnxruntime-node, required the first time it is asked for. */
export const ort = (): typeof Ort => (runtime ??= require('onnxruntime-node') as typeof Ort);
