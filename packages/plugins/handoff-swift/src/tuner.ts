// How a plan's LoRA reaches the model's parts, as ms-swift's --tuner_type, freeze flags, --target_modules or
// --target_regex (swift/arguments/tuner_args.py and base_args/model_args.py at the commit arguments.ts names).
import type { HandoffGap, HandoffPlan } from '@mmft/core';

/** One `--flag value...` of `swift sft`. */
export type SwiftArg = readonly [flag: string, ...values: (string | number | boolean)[]];

/** Adds one argument and, with `mmft`, the recipe field it came from. */
export type Put = (flag: string, value: string | number | boolean | readonly (string | number)[], mmft?: string, note?: string) => void;

export type Part = 'vision' | 'projector' | 'language';
const FREEZE_FLAG: Readonly<Record<Part, string>> = { vision: 'freeze_vit', projector: 'freeze_aligner', language: 'freeze_llm' };
/** Module names that stand for a whole part in modules_to_save (transformers' LLaVA names, LLaVA's mm_projector). */
const PART_MODULES: Readonly<Record<Part, readonly string[]>> = {
  vision: ['vision_tower', 'vision_model'],
  projector: ['multi_modal_projector', 'mm_projector', 'projector'],
  language: ['language_model'],
};

/** Which parts LoRA reaches and which train whole, written as ms-swift's tuner / freeze / target arguments. */
export function writeTuner(plan: HandoffPlan, multimodal: boolean, put: Put, gaps: HandoffGap[]): void {
  const peft = plan.peft;
  const parts: Part[] = ['vision', 'projector', 'language'];
  if (!peft) {
    put('tuner_type', 'full', 'peft', 'no peft section: full fine-tuning');
    if (multimodal) for (const part of parts) put(FREEZE_FLAG[part], plan.freeze[part], `train.freeze`);
    return;
  }
  put('tuner_type', 'lora', 'peft.method');
  put('lora_rank', peft.r, 'peft.r');
  put('lora_alpha', peft.alpha, 'peft.lora_alpha');
  put('lora_dropout', peft.dropout, 'peft.lora_dropout');
  if (peft.useRslora) put('use_rslora', true, 'peft.use_rslora');
  // A part saved whole (modules_to_save) must not also get LoRA layers, so its freeze flag keeps LoRA out of it.
  const savedWhole = (part: Part) => peft.modulesToSave.some((name) => PART_MODULES[part].includes(name));
  if (peft.modulesToSave.length > 0) put('modules_to_save', peft.modulesToSave, 'peft.modules_to_save');
  if (peft.targetModules === 'all-linear') {
    put('target_modules', 'all-linear', 'peft.target_modules');
    if (multimodal) {
      for (const part of parts) {
        const lora = !plan.freeze[part] && !savedWhole(part);
        put(
          FREEZE_FLAG[part],
          !lora,
          'peft.exclude_modules',
          `all-linear in ms-swift covers the parts whose freeze flag is false; LoRA ${lora ? 'reaches' : 'skips'} the ${part} part`,
        );
      }
    } else if (peft.excludeModules !== undefined) {
      gaps.push({
        field: 'peft.exclude_modules',
        why: "ms-swift has no exclude list for a text model's all-linear; every Linear but lm_head gets LoRA",
      });
    }
    return;
  }
  const regex = targetRegex(peft.targetModules, peft.excludeModules);
  if (typeof peft.targetModules !== 'string' && peft.excludeModules === undefined)
    put('target_modules', [...peft.targetModules], 'peft.target_modules');
  else {
    put('target_regex', regex, 'peft.target_modules', 'exclude_modules folded in as a negative lookahead');
    if (multimodal && (typeof peft.targetModules === 'string' || typeof peft.excludeModules === 'string')) {
      gaps.push({
        field: 'peft.target_modules',
        why:
          "a regex is matched on mmft's LLaVA module names (language_model.model.layers…); transformers 4.52 and later, " +
          'as ms-swift loads it, names them model.language_model.layers…: check --target_regex against the model ms-swift prints',
      });
    }
  }
}

/** PEFT's matching (a string: full regex match; a list: a name or a `.name` suffix) with exclusions, as one regex. */
export function targetRegex(target: string | readonly string[], exclude?: string | readonly string[]): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const names = (list: readonly string[]) => `(?:.*\\.)?(?:${list.map(escape).join('|')})`;
  const positive = typeof target === 'string' ? target : names(target);
  if (exclude === undefined || (typeof exclude !== 'string' && exclude.length === 0))
    return typeof target === 'string' ? target : `^${positive}$`;
  const negative = typeof exclude === 'string' ? exclude : names(exclude);
  return `^(?!(?:${negative})$)(?:${positive})$`;
}
