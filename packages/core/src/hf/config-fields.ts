// An architecture's recipe section mixes its own keys (type, checkpoint, tokenizer, seed, ...) with
// Hugging Face config fields given inline; config.json gets only the latter.

/** Keys of a `model:` section that are mmft's, not config.json fields. */
export const RECIPE_MODEL_KEYS = ['type', 'checkpoint', 'tokenizer', 'ignoreUnexpected', 'seed'] as const;

/**
 * The config.json fields of a `model:` section (its own keys removed).
 *
 * @example
 * hfConfigFields({ type: 'llama', seed: 1, hidden_size: 64 }); // { hidden_size: 64 }
 */
export function hfConfigFields(section: object): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...(section as Record<string, unknown>) };
  for (const key of RECIPE_MODEL_KEYS) delete rest[key];
  return rest;
}
