// The recipe section of the tfjs backend: which engines to try, in order, and whether to install
// mmft's kernel overrides. Validated by zod like every plugin config (docs/conventions.md §7).
import { z } from 'zod';

/**
 * Engines the backend can pick, fastest first. Names follow the npm package that provides each
 * engine (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm`,
 * `@tensorflow/tfjs-backend-cpu`), so an error about one says what to install.
 */
export const ENGINE_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export const tfjsBackendConfigSchema = z
  .object({
    prefer: z
      .array(z.enum(ENGINE_NAMES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'list each engine once' })
      .default([...ENGINE_NAMES])
      .describe(
        'Engines to try in order; the first that is installed and loads is used. ' +
          `Known: ${ENGINE_NAMES.join(', ')}. Example: ["wasm", "cpu"] to skip the native engines.`,
      ),
    overrides: z
      .boolean()
      .default(true)
      .describe(
        "Install mmft's kernel overrides where the chosen engine is slow (wasm BatchMatMul, with the native GEMM when built, and Sum) or lacks a kernel (wasm UnsortedSegmentSum). Turn off only to compare.",
      ),
  })
  .strict()
  .describe('TensorFlow.js engine selection (backend "tfjs").');

/** The parsed config (defaults applied). */
export type TfjsBackendConfig = z.output<typeof tfjsBackendConfigSchema>;
/** What a recipe may write (every field optional). */
export type TfjsBackendConfigInput = z.input<typeof tfjsBackendConfigSchema>;
