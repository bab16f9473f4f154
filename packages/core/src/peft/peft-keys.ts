// Tensor names in adapter_model.safetensors, as peft/utils/save_and_load.py writes and reads
// them: the model's state-dict name behind `base_model.model.`, with the adapter-name segment
// removed (`q_proj.lora_A.default.weight` → `q_proj.lora_A.weight`) and a ModulesToSaveWrapper's
// `modules_to_save.<adapter>.` dropped; loading puts the adapter name back after the prefix part.

/** The prefix PEFT's PeftModel → tuner model → base model nesting puts before every name. */
export const PEFT_KEY_PREFIX = 'base_model.model.';

/**
 * The file key of a parameter `name` of the wrapped tree for adapter `adapterName`.
 *
 * @example
 * toPeftKey('text_model.encoder.layers.0.self_attn.q_proj.lora_A.default.weight', 'default');
 * // 'base_model.model.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight'
 */
export function toPeftKey(name: string, adapterName: string): string {
  const segments = name.split('.');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === 'modules_to_save' && segments[i + 1] === adapterName) {
      i += 1; // the trained copy is stored under the module's own name
      continue;
    }
    if (segments[i] === adapterName && i > 0) continue;
    out.push(segments[i]!);
  }
  return PEFT_KEY_PREFIX + out.join('.');
}

/**
 * The tree name of a file key. `adapterOwners` are the segments after which PEFT inserts the
 * adapter name (`lora_A`, `lora_B`, `adapter_down`...); `savedModules` are paths wrapped by
 * modules_to_save, whose keys gain `modules_to_save.<adapter>`.
 *
 * @example
 * fromPeftKey('base_model.model.x.q_proj.lora_A.weight', 'default', { adapterOwners: ['lora_A', 'lora_B'] });
 * // 'x.q_proj.lora_A.default.weight'
 */
export function fromPeftKey(
  key: string,
  adapterName: string,
  options: { adapterOwners: readonly string[]; savedModules?: readonly string[] },
): string {
  const bare = key.startsWith(PEFT_KEY_PREFIX) ? key.slice(PEFT_KEY_PREFIX.length) : key;
  for (const path of options.savedModules ?? []) {
    if (bare.startsWith(`${path}.`)) return `${path}.modules_to_save.${adapterName}.${bare.slice(path.length + 1)}`;
  }
  const segments = bare.split('.');
  const out: string[] = [];
  for (const segment of segments) {
    out.push(segment);
    if (options.adapterOwners.includes(segment)) out.push(adapterName);
  }
  return out.join('.');
}
