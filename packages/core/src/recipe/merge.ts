// Deep merge for `extends:` and `--set`: mappings merge key by key, anything else (lists
// included) is replaced — what Hydra and LLaMA-Factory users expect of config inheritance — and a
// null removes what the base set (`peft: null` in a child recipe trains without the parent's adapter).

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A new object: `override` wins, a null in `override` deletes the key; neither input is modified. */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    if (value === null) delete result[key];
    else result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}
