// What `mmft probe` and `mmft eval recipe --slice-by/--perturb` both build from a recipe before
// they run its saved model: the backend, and the objective (with its batch size) and metrics the
// trainer would evaluate with. Kept in one place so the two commands score exactly as training does.
import {
  fedMetric,
  isCausalLanguageModel,
  parseConfig,
  RECIPE_SECTIONS,
  sectionOrDefault,
  type FedMetric,
  type Objective,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';

/** A recipe section as a plain object, or undefined when it is absent or not an object. */
export const sectionOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** A section's `type` and its other settings. */
export function withoutType(section: Record<string, unknown>): [string, Record<string, unknown>] {
  const { type, ...settings } = section;
  return [type as string, settings];
}

/** Selects the recipe's backend, or tfjs (else the first one registered) when it names none. */
export async function selectRecipeBackend(registry: PluginRegistry, recipe: Record<string, unknown>): Promise<void> {
  const backend = sectionOf(recipe.backend);
  if (backend) {
    await registry.resolve('backend', backend.type as string).select(withoutType(backend)[1]);
    return;
  }
  const available = registry.list('backend');
  const chosen = available.find((b) => b.id === 'tfjs') ?? available[0];
  if (chosen) await chosen.select(parseConfig(chosen, {}));
}

/**
 * The recipe's objective over `model` and its metrics. As the trainer: an absent objective: section
 * on a language model is next-token prediction; the batch size is `batchSize`, else
 * train.eval_batch_size, else train.batch_size, else 16. The caller disposes the objective.
 *
 * @example
 * const { objective, metrics, batchSize } = await createRecipeObjective(registry, recipe, model, outputDir);
 */
export async function createRecipeObjective(
  registry: PluginRegistry,
  recipe: Record<string, unknown>,
  model: VisionLanguageModel,
  outputDir: string,
  batchSize?: number,
): Promise<{ objective: Objective; metrics: FedMetric[]; batchSize: number }> {
  const spec = RECIPE_SECTIONS.find((s) => s.kind === 'objective')!;
  const [objectiveId, settings] =
    recipe.objective === undefined && (isCausalLanguageModel(model) || model.family === 'vision-to-llm')
      ? ['causal-lm', {}]
      : withoutType(sectionOrDefault(recipe, spec)!);
  const provider = registry.resolve('objective', objectiveId);
  const train = sectionOf(recipe.train);
  const size = batchSize ?? Number(train?.eval_batch_size ?? train?.batch_size ?? 16);
  const objective = await provider.create(parseConfig(provider, settings, 'objective'), {
    model,
    resolver: registry,
    recipe,
    seed: typeof recipe.seed === 'number' ? recipe.seed : 0,
    outputDir,
    batchSize: size,
  });
  const metrics = (Array.isArray(recipe.metrics) ? recipe.metrics : []).map((m) => {
    const [id, s] = withoutType(sectionOf(m)!);
    return fedMetric(registry.resolve('metric', id), s, id);
  });
  return { objective, metrics, batchSize: size };
}
