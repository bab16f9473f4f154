// The one error class of mmft. Every failure a user can cause carries a typed `code`, a message
// that says what was wrong, where (file:line, field, tensor shape) and how to fix it, and keeps
// its `cause`. Follows the "one error class with typed codes" shape of tRPC's TRPCError.

/** Every error code mmft raises. Add new codes here, never ad-hoc strings. */
export type MmftErrorCode =
  | 'E_RECIPE' // a recipe file is malformed or fails its schema
  | 'E_PLUGIN_LOAD' // a plugin package cannot be found or has no valid default export
  | 'E_PLUGIN_INVALID' // a plugin manifest breaks the rules (bad id, unknown kind, lying manifest)
  | 'E_PLUGIN_DUPLICATE' // two plugins claim the same kind + id
  | 'E_UNKNOWN_ID' // nothing provides the requested kind + id
  | 'E_CONFIG' // a config object (plugin section, config.json) is invalid
  | 'E_CHECKPOINT' // a checkpoint folder is missing files or tensors, or they do not fit
  | 'E_SAFETENSORS' // a safetensors file is truncated, lies in its header, or has a bad dtype
  | 'E_SHAPE' // tensor shapes do not fit together
  | 'E_DATA' // a data file has invalid records
  | 'E_DATA_CHANGED' // a data file no longer matches its manifest (hash, size, records or images)
  | 'E_INPUT' // a user-given file or argument is unusable
  | 'E_BACKEND' // no tensor backend could be set up
  | 'E_IO' // a filesystem operation failed
  | 'E_NUMERIC' // NaN/Inf or other numeric failure during training
  | 'E_UNSUPPORTED'; // a valid request that this build cannot do

export interface MmftErrorOptions {
  cause?: unknown;
  /** Short advice printed after the message ("did you mean ...", "run mmft plugins"). */
  hint?: string;
}

/**
 * The error every mmft package throws for user-facing failures.
 *
 * @example
 * throw new MmftError('E_UNKNOWN_ID', `no plugin provides metric "cidr"; available: cider, bleu`);
 */
export class MmftError extends Error {
  readonly code: MmftErrorCode;
  readonly hint?: string;

  constructor(code: MmftErrorCode, message: string, options: MmftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MmftError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True for an MmftError, even one thrown by a second copy of @mmft/core. */
export function isMmftError(value: unknown): value is MmftError {
  return value instanceof Error && value.name === 'MmftError' && typeof (value as MmftError).code === 'string';
}

/** Assertion with a lazily built message, as tfjs-core's `util.assert` does. */
export function assertThat(condition: unknown, code: MmftErrorCode, message: () => string): asserts condition {
  if (!condition) throw new MmftError(code, message());
}
