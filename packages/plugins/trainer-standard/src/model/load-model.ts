// Builds the model a recipe names: `model.type` through the resolver, then fromPretrained
// (`model.checkpoint`, relative to the recipe) or fromConfig (`model.config`); then PEFT: a
// trained adapter folder (`model.adapter`, as PEFT's PeftModel.from_pretrained and
// LLaMA-Factory's adapter_name_or_path) or a fresh one (`peft:` section, PeftMethodProvider.apply).
// Follows docs/architecture.md step 5. A fresh adapter on a causal LM is tagged task_type CAUSAL_LM
// unless the recipe sets one, as LLaMA-Factory's model/adapter.py builds its LoraConfig, so PEFT's
// AutoPeftModelForCausalLM loads the saved folder.
import * as path from 'node:path';
import {
  architectureContext,
  isCausalLanguageModel,
  loadAdapter,
  MmftError,
  type AppliedAdapter,
  type PeftMethodProvider,
  type RunContext,
  type VisionLanguageModel,
} from '@mmft/core';

export interface LoadedModel {
  readonly model: VisionLanguageModel;
  readonly adapter?: { readonly applied: AppliedAdapter; readonly provider: PeftMethodProvider; readonly config: unknown };
  /** Where the weights came from, for adapter_config.json's base_model_name_or_path. */
  readonly source: string | null;
}

const section = (recipe: RunContext['recipe'], key: string): Record<string, unknown> | undefined => {
  const value = recipe[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
};

/**
 * @example
 * const { model, adapter } = await loadModel(context);
 * // resume: the full model saved in a checkpoint replaces model.checkpoint / model.config
 * await loadModel(context, 'runs/x/checkpoint-last/model');
 */
export async function loadModel(context: RunContext, resumeModelDir?: string): Promise<LoadedModel> {
  const spec = section(context.recipe, 'model');
  if (!spec || typeof spec.type !== 'string') {
    throw new MmftError('E_RECIPE', 'the recipe has no model: section with a type', {
      hint: 'add model: { type: clip, checkpoint: ./path/to/checkpoint }',
    });
  }
  const architecture = context.resolver.resolve('architecture', spec.type);
  // A bridge architecture builds its towers from sub-configs through the run's registry.
  const towers = architectureContext(context.resolver);
  let model: VisionLanguageModel;
  let source: string | null = null;
  if (resumeModelDir !== undefined) {
    // Resume: the checkpoint's own full model (frozen weights included) replaces the recipe's.
    source = typeof spec.checkpoint === 'string' ? path.resolve(context.baseDir, spec.checkpoint) : null;
    model = await architecture.fromPretrained(resumeModelDir, {}, towers);
  } else if (typeof spec.checkpoint === 'string') {
    source = path.resolve(context.baseDir, spec.checkpoint);
    model = await architecture.fromPretrained(source, { ignoreUnexpected: spec.ignoreUnexpected === true }, towers);
  } else {
    // Fresh weights: the architecture reads its own section (config, tokenizer...); folder paths
    // in it are relative to the recipe like every other path.
    const { type: _type, adapter: _adapter, ...settings } = spec;
    if (typeof settings.tokenizer === 'string') settings.tokenizer = path.resolve(context.baseDir, settings.tokenizer);
    model = await architecture.fromConfig(settings, towers);
  }
  const peft = section(context.recipe, 'peft');
  if (typeof spec.adapter === 'string')
    return { model, adapter: await loadSavedAdapter(context, model, path.resolve(context.baseDir, spec.adapter), peft), source };
  if (!peft || typeof peft.method !== 'string') return { model, source };
  const provider = context.resolver.resolve('peft', peft.method);
  const { method: _method, ...config } = peft;
  // The validated section holds task_type null when the recipe leaves it out.
  if (config.task_type == null && isCausalLanguageModel(model)) config.task_type = 'CAUSAL_LM';
  // A method's own `seed` unset: its initialisation follows the recipe's seed, as transformers'
  // set_seed(args.seed) runs before get_peft_model, so two runs of one recipe start alike.
  const recipeSeed = context.recipe.seed;
  if (
    config.seed === undefined &&
    typeof recipeSeed === 'number' &&
    provider.configSchema.safeParse({ ...config, seed: recipeSeed }).success
  )
    config.seed = recipeSeed;
  // PEFT trains only the adapter: freeze the base first, then the adapter's own parameters train.
  model.root.freeze('**');
  const applied = provider.apply(model.root, config, 'default');
  for (const [, variable] of applied.trainableParameters()) variable.trainable = true;
  return { model, adapter: { applied, provider, config }, source };
}

/**
 * A trained adapter folder on `model`; it trains on (only the adapter) if the run trains. Its
 * adapter_config.json sets the method's settings; a `peft:` section must name the same method.
 */
async function loadSavedAdapter(
  context: RunContext,
  model: VisionLanguageModel,
  dir: string,
  peft: Record<string, unknown> | undefined,
): Promise<NonNullable<LoadedModel['adapter']>> {
  const { applied, provider, config } = await loadAdapter(dir, model.root, context.resolver.list('peft'), {
    renameKey: model.checkpointKeyName?.bind(model),
  });
  if (peft && typeof peft.method === 'string' && peft.method !== provider.id) {
    applied.remove();
    throw new MmftError(
      'E_RECIPE',
      `model.adapter ${dir} holds a ${provider.id} adapter (peft_type ${provider.peftType}), but peft.method is "${peft.method}"`,
      {
        hint: `set peft.method: ${provider.id}, or remove the peft: section (the adapter folder's adapter_config.json sets the method)`,
      },
    );
  }
  model.root.freeze('**');
  for (const [, variable] of applied.trainableParameters()) variable.trainable = true;
  return { applied, provider, config };
}
