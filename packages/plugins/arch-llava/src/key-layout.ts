// The two key layouts of LLaVA checkpoints. The Hub's (what the llava-hf conversion script
// convert_llava_weights_to_hf.py writes and what save_pretrained still writes, transformers PR
// #38385): vision_tower.*, multi_modal_projector.*, language_model.model.*, language_model.lm_head.*.
// The module names of transformers ≥ 4.52 (LlavaModel + lm_head, modeling_llava.py
// _checkpoint_conversion_mapping read in reverse): model.vision_tower.*, model.multi_modal_projector.*,
// model.language_model.* (the base model, without its own prefix), lm_head.*. This module tree uses
// the Hub names, so a folder in the second layout is renamed on load.
import { MmftError } from '@mmft/core';
import type { SafetensorsTensor } from '@mmft/core/io';
import type { AnyModule } from '@mmft/core/nn';

export type KeyLayout = 'hub' | 'transformers';

/**
 * The base-model prefix of a causal LM's module tree ("model" for Llama and OPT, "transformer" for
 * GPT-2): its one child besides lm_head, which transformers' LlavaModel holds as `language_model`.
 */
export function basePrefixOf(lmRoot: AnyModule): string {
  const names = lmRoot
    .namedChildren()
    .map(([name]) => name)
    .filter((name) => name !== 'lm_head');
  if (names.length !== 1) {
    throw new MmftError(
      'E_CONFIG',
      `the language model's module tree has children [${names.join(', ')}] besides lm_head; expected one base model`,
      {
        hint: 'LLaVA checkpoints in the transformers ≥ 4.52 layout name the base model model.language_model.*',
      },
    );
  }
  return names[0]!;
}

/** Renames a transformers ≥ 4.52 key to the Hub's (unknown keys unchanged). */
export function toHubKey(name: string, basePrefix: string): string {
  if (name.startsWith('model.vision_tower.')) return name.slice('model.'.length);
  if (name.startsWith('model.multi_modal_projector.')) return name.slice('model.'.length);
  if (name.startsWith('model.language_model.')) return `language_model.${basePrefix}.${name.slice('model.language_model.'.length)}`;
  if (name.startsWith('lm_head.')) return `language_model.${name}`;
  return name;
}

/** Renames a Hub key to transformers ≥ 4.52's (the layout tests write; unknown keys unchanged). */
export function toTransformersKey(name: string, basePrefix: string): string {
  if (name.startsWith('vision_tower.') || name.startsWith('multi_modal_projector.')) return `model.${name}`;
  if (name.startsWith(`language_model.${basePrefix}.`)) return `model.language_model.${name.slice(`language_model.${basePrefix}.`.length)}`;
  if (name.startsWith('language_model.lm_head.')) return name.slice('language_model.'.length);
  return name;
}

/**
 * The file's tensors under Hub names and which layout the file used: any key starting with
 * `model.vision_tower.`, `model.multi_modal_projector.` or `model.language_model.` means the
 * transformers ≥ 4.52 layout. A file mixing both is refused (two tensors could land on one name).
 */
export function hubKeyLayout(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  lmRoot: AnyModule,
): { tensors: Map<string, SafetensorsTensor>; layout: { name: KeyLayout; rename: (key: string) => string } } {
  const current = [...tensors.keys()].filter((k) => /^model\.(vision_tower|multi_modal_projector|language_model)\./.test(k));
  if (current.length === 0) return { tensors: new Map(tensors), layout: { name: 'hub', rename: (k) => k } };
  const hub = [...tensors.keys()].find((k) => /^(vision_tower|multi_modal_projector|language_model)\./.test(k));
  if (hub) {
    throw new MmftError(
      'E_CHECKPOINT',
      `the checkpoint mixes both LLaVA key layouts: "${current[0]}" (transformers ≥ 4.52) and "${hub}" (Hub)`,
      {
        hint: 'save it again with one layout; save() writes the Hub layout',
      },
    );
  }
  const prefix = basePrefixOf(lmRoot);
  const rename = (k: string) => toHubKey(k, prefix);
  return { tensors: new Map([...tensors].map(([k, v]) => [rename(k), v])), layout: { name: 'transformers', rename } };
}
