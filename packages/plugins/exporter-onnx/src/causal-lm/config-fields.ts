// Reads the config.json fields an emitter needs from a loaded model's parsed config, with the error
// naming the field when a value is missing or of the wrong type (the architecture plugin parsed the
// file already, so this only guards against a model built some other way).
import { MmftError } from '@mmft/core';

/** Typed accessors over one model's config object. */
export interface ConfigFields {
  int(name: string, fallback?: number): number;
  num(name: string, fallback?: number): number;
  bool(name: string, fallback?: boolean): boolean;
  str(name: string, fallback?: string): string;
  /** The raw value (objects such as rope_scaling). */
  raw(name: string): unknown;
}

export function configFields(config: Readonly<Record<string, unknown>>, modelType: string): ConfigFields {
  const fail = (name: string, want: string): never => {
    throw new MmftError(
      'E_CONFIG',
      `${modelType} config.json: ${name} must be ${want} for ONNX export, got ${JSON.stringify(config[name])}`,
      {
        hint: `set ${name} in the model's config.json (compare with transformers' configuration_${modelType}.py)`,
      },
    );
  };
  const get = <T>(name: string, fallback: T | undefined, ok: (v: unknown) => boolean, want: string): T => {
    const v = config[name];
    if (v === undefined || v === null) return fallback === undefined ? fail(name, want) : fallback;
    return ok(v) ? (v as T) : fail(name, want);
  };
  return {
    int: (name, fallback) => get(name, fallback, (v) => Number.isInteger(v), 'an integer'),
    num: (name, fallback) => get(name, fallback, (v) => typeof v === 'number' && Number.isFinite(v), 'a number'),
    bool: (name, fallback) => get(name, fallback, (v) => typeof v === 'boolean', 'true or false'),
    str: (name, fallback) => get(name, fallback, (v) => typeof v === 'string', 'a string'),
    raw: (name) => config[name],
  };
}
