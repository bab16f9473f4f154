// Which parts of a LLaVA-style model train under a recipe's freeze / unfreeze lists and PEFT targets, for
// handoffPlan (plan.ts). Part names follow the module names transformers gives LLaVA (vision_tower,
// multi_modal_projector, language_model), which LLaMA-Factory's COMPOSITE_MODELS keys also use
// (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/model/model_utils/visual.py).
import type { HandoffGap, HandoffPlan } from '../contracts/handoff';
import { MmftError } from '../errors';

export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
export const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
export const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

export type ModelPart = 'vision' | 'projector' | 'language';
const PARTS: readonly ModelPart[] = ['vision', 'projector', 'language'];

/** A module name of each part as PEFT sees a LLaVA model (legacy transformers layout, as mmft names parameters). */
const SAMPLE_MODULE: Readonly<Record<ModelPart, string>> = {
  vision: 'vision_tower.vision_model.encoder.layers.0.self_attn.q_proj',
  projector: 'multi_modal_projector.linear_1',
  language: 'language_model.model.layers.0.self_attn.q_proj',
};

/** Tower names a recipe may use for each part (the towers the bridges declare, plus CLIP-style aliases). */
const PART_NAMES: Readonly<Record<ModelPart, readonly string[]>> = {
  vision: ['vision', 'vision_tower', 'vision_model'],
  projector: ['projector', 'multi_modal_projector', 'mm_projector'],
  language: ['language', 'language_model', 'text', 'llm'],
};

/** The part a freeze entry (tower name or parameter glob) covers whole, if any. */
export function partOf(entry: string): ModelPart | undefined {
  for (const part of PARTS) {
    if (PART_NAMES[part].includes(entry)) return part;
    const prefix = SAMPLE_MODULE[part].split('.')[0]!;
    if (entry === `${prefix}.**` || entry === `${prefix}**` || entry === `${prefix}.*`) return part;
  }
  return undefined;
}

/** PEFT's module matching (tuners_utils.py check_target_module_exists): a string is a full regex match, a list matches a name or a `.name` suffix. */
function peftMatches(spec: string | readonly string[] | undefined, module: string): boolean {
  if (spec === undefined) return false;
  if (typeof spec === 'string') {
    if (spec === 'all-linear') return true;
    try {
      return new RegExp(`^(?:${spec})$`).test(module);
    } catch {
      return false;
    }
  }
  return spec.some((name) => module === name || module.endsWith(`.${name}`));
}

/** Which parts train, and gaps for freeze entries that cover only part of a tower. */
export function resolveFreeze(train: Obj, peft: Obj | undefined, gaps: HandoffGap[]): HandoffPlan['freeze'] {
  const frozen = new Set<ModelPart>();
  if (train.strategy === 'lock-image') frozen.add('vision');
  if (train.strategy === 'feature-based') {
    throw new MmftError(
      'E_UNSUPPORTED',
      'train.strategy feature-based (cached features and a head) has no equivalent in chat fine-tuning engines',
      {
        hint: 'hand off a recipe with train.strategy full or lock-image',
      },
    );
  }
  for (const [key, add] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    strings(train[key]).forEach((entry, i) => {
      const part = partOf(entry);
      if (!part)
        gaps.push({
          field: `train.${key}.${i}`,
          why: `"${entry}" is not a whole part (vision, projector, language); engines freeze whole parts only`,
        });
      else if (add) frozen.add(part);
      else frozen.delete(part);
    });
  }
  if (!peft) return { vision: frozen.has('vision'), projector: frozen.has('projector'), language: frozen.has('language') };
  // With an adapter a part trains when LoRA reaches one of its Linear layers or it is saved whole.
  const target = typeof peft.target_modules === 'string' ? peft.target_modules : strings(peft.target_modules);
  const exclude =
    peft.exclude_modules === undefined || peft.exclude_modules === null
      ? undefined
      : typeof peft.exclude_modules === 'string'
        ? peft.exclude_modules
        : strings(peft.exclude_modules);
  const saved = strings(peft.modules_to_save);
  const trains = (part: ModelPart): boolean => {
    if (frozen.has(part)) return false;
    const module = SAMPLE_MODULE[part];
    if (saved.some((name) => module.split('.').includes(name) || PART_NAMES[part].includes(name))) return true;
    return peftMatches(target, module) && !peftMatches(exclude, module);
  };
  return { vision: !trains('vision'), projector: !trains('projector'), language: !trains('language') };
}
