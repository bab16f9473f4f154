// JSON as transformers writes its config files (PretrainedConfig.to_json_string with
// sort_keys=True): keys sorted, 2-space indent, trailing newline. Shared by every architecture
// that saves a checkpoint folder.

/**
 * The bytes transformers would write for `value`.
 *
 * @example
 * await writeFileDurable(join(temp, 'config.json'), hfJson(config));
 */
export function hfJson(value: unknown): Uint8Array {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  };
  return new TextEncoder().encode(`${JSON.stringify(sortKeys(value), null, 2)}\n`);
}
