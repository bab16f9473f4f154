// The one table of plugin kinds: each row names a kind, its injection token and the recipe
// sections that select a provider of it. PLUGIN_KINDS, the tokens (tokens.ts) and the recipe's
// top-level shape (recipe/sections.ts) are derived from it, so a new kind is one contract file
// (which augments ProviderKindMap, kinds.ts) plus one row here.
import type { InjectionToken } from 'tsyringe';
import type { PluginKind, ProviderKindMap } from './kinds';

/**
 * Where a recipe selects a provider of a kind: `path` is the section's place in the recipe
 * (`'*'` for every item of a list; at most two segments), `key` the field naming the provider.
 */
export interface RecipeSectionSpec {
  readonly path: readonly [string] | readonly [string, string];
  readonly key: 'type' | 'method';
  /** Shown by `mmft schema` and editors. */
  readonly description: string;
  /**
   * Provider id a recipe without this section gets (e.g. `objective:` absent means contrastive).
   * Validation leaves an absent section absent; the code that runs it reads `sectionOrDefault`.
   */
  readonly default?: string;
}

export interface KindSpec<K extends PluginKind = PluginKind> {
  readonly kind: K;
  /** Multi-registration token; `Symbol.for` keeps identity across two installed copies of core. */
  readonly token: InjectionToken<ProviderKindMap[K]>;
  /** How messages and schema descriptions name a provider of this kind ("PEFT method"). */
  readonly label: string;
  readonly sections: readonly RecipeSectionSpec[];
}

type KindTable = { readonly [K in PluginKind]: Omit<KindSpec<K>, 'kind'> };

const token = (name: string): symbol => Symbol.for(`@mmft/core:${name}`);

// Rows in recipe order: the order of sections in `mmft schema` and of validation messages.
// The mapped type makes a missing or unknown kind a compile error.
const TABLE: KindTable = {
  backend: {
    token: token('Backend'),
    label: 'backend',
    sections: [{ path: ['backend'], key: 'type', description: 'tensor engine selection' }],
  },
  architecture: {
    token: token('Architecture'),
    label: 'architecture',
    sections: [{ path: ['model'], key: 'type', description: 'the model: architecture and checkpoint' }],
  },
  dataset: {
    token: token('Dataset'),
    label: 'dataset',
    sections: [
      { path: ['data', 'train'], key: 'type', description: 'training data' },
      { path: ['data', 'eval'], key: 'type', description: 'evaluation data' },
    ],
  },
  peft: {
    token: token('PeftMethod'),
    label: 'PEFT method',
    sections: [{ path: ['peft'], key: 'method', description: 'parameter-efficient method; absent means full fine-tuning' }],
  },
  loss: { token: token('Loss'), label: 'loss', sections: [{ path: ['loss'], key: 'type', description: 'training objective' }] },
  objective: {
    token: token('Objective'),
    label: 'objective',
    sections: [
      {
        path: ['objective'],
        key: 'type',
        description: 'what the run trains for: collation, loss and evaluation (absent means contrastive)',
        default: 'contrastive',
      },
    ],
  },
  metric: {
    token: token('Metric'),
    label: 'metric',
    sections: [{ path: ['metrics', '*'], key: 'type', description: 'metrics computed at evaluation' }],
  },
  trainer: {
    token: token('Trainer'),
    label: 'trainer',
    sections: [{ path: ['train'], key: 'type', description: 'the trainer and its settings (lr, steps, schedule...)' }],
  },
  exporter: {
    token: token('Exporter'),
    label: 'exporter',
    sections: [{ path: ['export'], key: 'type', description: 'export after training (e.g. onnx)' }],
  },
  // Chosen when serving (`mmft serve --filter blocklist:FILE`), not by a recipe section.
  filter: { token: token('OutputFilter'), label: 'output filter', sections: [] },
  // Chosen by `mmft handoff --to <id>`, not by a recipe section.
  handoff: { token: token('HandoffTarget'), label: 'handoff target', sections: [] },
  // Chosen by the trainer's `train.report_to` list (HF TrainingArguments.report_to), not by a section.
  reporter: { token: token('Reporter'), label: 'reporter', sections: [] },
};

/** Every plugin kind with its token and recipe sections, in recipe order. */
export const KIND_SPECS: readonly KindSpec[] = (Object.keys(TABLE) as PluginKind[]).map((kind) => ({ kind, ...TABLE[kind] }) as KindSpec);

/** The kinds of capability a plugin can provide, alphabetically (as messages list them). */
export const PLUGIN_KINDS: readonly PluginKind[] = KIND_SPECS.map((spec) => spec.kind).sort();

/** The injection token of each plugin kind. */
export const KIND_TOKENS: { readonly [K in PluginKind]: InjectionToken<ProviderKindMap[K]> } = Object.fromEntries(
  KIND_SPECS.map((spec) => [spec.kind, spec.token]),
) as { readonly [K in PluginKind]: InjectionToken<ProviderKindMap[K]> };

/** The row of `kind`. */
export function kindSpec<K extends PluginKind>(kind: K): KindSpec<K> {
  return KIND_SPECS.find((spec) => spec.kind === kind) as KindSpec<K>;
}
