// Which inference engine runs an experiment's mmft side: tfjs (the default: the wasm engine with the
// native kernels, as `mmft train` and `mmft generate` run) or onnxruntime-node on the model exported by
// @mmft/exporter-onnx (docs/benchmarks.md, "ONNX Runtime"). Only inference kinds have an ONNX graph.
import { z } from 'zod';

/** Engines of the mmft side. */
export const RUNTIMES = ['tfjs', 'onnxruntime'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Kinds an onnxruntime row can measure: the exporter writes CLIP's two towers and causal-LM decoders with their KV cache. */
export const ONNX_RUNTIME_KINDS: readonly string[] = ['embed', 'embed-text', 'prefill', 'decode'];

export const runtimeSchema = z
  .enum(RUNTIMES)
  .default('tfjs')
  .describe(
    'engine of the mmft side: tfjs, or onnxruntime (the model exported with @mmft/exporter-onnx, run by onnxruntime-node on the CPU; kinds embed, embed-text, prefill, decode)',
  );

/** The bench-config refinement: an onnxruntime row must be a kind the exporter has a graph for. */
export function checkRuntime(bench: { kind: string; runtime: Runtime }, ctx: z.RefinementCtx): void {
  if (bench.runtime === 'onnxruntime' && !ONNX_RUNTIME_KINDS.includes(bench.kind)) {
    ctx.addIssue({
      code: 'custom',
      path: ['runtime'],
      message: `runtime onnxruntime measures kinds ${ONNX_RUNTIME_KINDS.join(', ')}, not kind ${bench.kind}`,
    });
  }
}
