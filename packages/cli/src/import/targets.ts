// Module names an adapter's config gives in the engine's layout that core's loadAdapter cannot rename
// to mmft's module tree (it renames whole names through the model's checkpointKeyName):
// - a regex target_modules, which ms-swift writes for multimodal models, `^(<language model path>.*\.(q_proj|…))$`
//   (modelscope/ms-swift@6c45757:swift/llm/train/tuner.py, get_multimodal_target_regex);
// - name suffixes that start inside a path, which PEFT writes when it condenses a list of 20 or more full
//   names (`language_model.layers.0.self_attn.q_proj` in the transformers ≥ 4.52 layout;
//   huggingface/peft tuners_utils.py, _find_minimal_target_modules).
// PEFT matches a list entry against the end of a module name, so the full names of the modules the
// adapter's own tensors adapt select exactly the same modules.
import { headerTensors } from './check';

const PREFIX = 'base_model.model.';
const LORA_TENSOR = /^(.+)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(\.weight)?$/;

/**
 * For a regex target_modules, or a list with partial dotted names: the config with target_modules
 * listing the adapted modules in full (in the file's own layout) and exclude_modules dropped (the list
 * already leaves them out); else undefined (bare names, full names, all-linear).
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
  if (target === 'all-linear' || (typeof target !== 'string' && !Array.isArray(target))) return undefined;
  const modules = [
    ...new Set(
      headerTensors(weightsFile)
        .map((t) => (t.name.startsWith(PREFIX) ? LORA_TENSOR.exec(t.name.slice(PREFIX.length))?.[1] : undefined))
        .filter((m): m is string => m !== undefined),
    ),
  ].sort();
  if (modules.length === 0) return undefined;
  if (Array.isArray(target)) {
    const entries = target.filter((m): m is string => typeof m === 'string');
    // Bare names ("q_proj") match in every layout and full names load through the rename; an entry that
    // names no adapted module at all is left for the loader to report.
    const partial = entries.filter((e) => e.includes('.') && !modules.includes(e));
    if (partial.length === 0 || !partial.every((e) => modules.some((m) => m.endsWith(`.${e}`)))) return undefined;
  }
  // exclude_modules only where the engine wrote it: PEFT versions before it refuse the unknown field.
  return { config: { ...config, target_modules: modules, ...('exclude_modules' in config ? { exclude_modules: null } : {}) }, modules };
}
