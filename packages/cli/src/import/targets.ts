// An adapter whose target_modules is one regex over the engine's module names cannot be renamed to
// mmft's module tree the way a list of names can (core's loadAdapter renames lists through the model's
// checkpointKeyName). ms-swift writes such a regex for multimodal models, `^(<language model path>.*\.(q_proj|…))$`
// (modelscope/ms-swift@6c45757:swift/llm/train/tuner.py, get_multimodal_target_regex). PEFT matches a list
// entry against the end of a module name, so the full names of the modules the adapter's own tensors
// adapt select exactly the same modules.
import { headerTensors } from './check';

const PREFIX = 'base_model.model.';
const LORA_TENSOR = /^(.+)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(\.weight)?$/;

/**
 * For a regex target_modules: the config with target_modules listing the adapted modules (in the
 * file's own layout) and exclude_modules dropped (the list already leaves them out); else undefined.
 *
 * @example
 * explicitTargets({ peft_type: 'LORA', target_modules: '^(model\\.language_model.*q_proj)$' }, 'adapter_model.safetensors');
 * // { config: { …, target_modules: ['model.language_model.layers.0.self_attn.q_proj', …] }, modules: [...] }
 */
export function explicitTargets(
  config: Record<string, unknown>,
  weightsFile: string,
): { config: Record<string, unknown>; modules: string[] } | undefined {
  const target = config.target_modules;
  if (typeof target !== 'string' || target === 'all-linear') return undefined;
  const modules = [
    ...new Set(
      headerTensors(weightsFile)
        .map((t) => (t.name.startsWith(PREFIX) ? LORA_TENSOR.exec(t.name.slice(PREFIX.length))?.[1] : undefined))
        .filter((m): m is string => m !== undefined),
    ),
  ].sort();
  if (modules.length === 0) return undefined;
  // exclude_modules only where the engine wrote it: PEFT versions before it refuse the unknown field.
  return { config: { ...config, target_modules: modules, ...('exclude_modules' in config ? { exclude_modules: null } : {}) }, modules };
}
