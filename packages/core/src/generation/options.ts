// Generation settings as transformers builds them: GenerationConfig's defaults, then the model's
// generation_config.json, then the call's kwargs (GenerationMixin._prepare_generation_config in
// generation/utils.py), checked as GenerationConfig.validate (generation/configuration_utils.py) and the
// logits processors' constructors (generation/logits_process.py) check them. Lengths that depend on the
// prompt follow `_prepare_generated_length` / `_validate_generated_length` (generation/utils.py).
import type { GenerationOptions } from '../contracts/model';
import { MmftError } from '../errors';
import type { GenerationLengths, GenerationMode, GenerationSettings } from './types';

/** generation_config.json's name of each option (snake_case, as transformers writes it). */
const JSON_NAMES = {
  maxNewTokens: 'max_new_tokens',
  maxLength: 'max_length',
  minNewTokens: 'min_new_tokens',
  minLength: 'min_length',
  doSample: 'do_sample',
  numBeams: 'num_beams',
  numReturnSequences: 'num_return_sequences',
  temperature: 'temperature',
  topK: 'top_k',
  topP: 'top_p',
  minP: 'min_p',
  repetitionPenalty: 'repetition_penalty',
  noRepeatNgramSize: 'no_repeat_ngram_size',
  lengthPenalty: 'length_penalty',
  earlyStopping: 'early_stopping',
  eosTokenId: 'eos_token_id',
  padTokenId: 'pad_token_id',
  bosTokenId: 'bos_token_id',
  stopStrings: 'stop_strings',
  seed: 'seed',
} as const satisfies Record<keyof GenerationOptions, string>;

type Key = keyof typeof JSON_NAMES;

/** GenerationConfig's defaults (configuration_utils.py) for the options that have one. */
const DEFAULTS = {
  maxLength: 20,
  minLength: 0,
  doSample: false,
  numBeams: 1,
  numReturnSequences: 1,
  temperature: 1.0,
  topK: 50,
  topP: 1.0,
  repetitionPenalty: 1.0,
  noRepeatNgramSize: 0,
  lengthPenalty: 1.0,
  earlyStopping: false,
} as const;

/**
 * Merges HF's defaults, generation_config.json (snake_case keys; null means unset) and the call's
 * options (camelCase), and checks the result. A bad value is an MmftError naming the option and where
 * it came from.
 *
 * @example
 * const s = resolveGenerationOptions({ eos_token_id: 2, num_beams: 4 }, { maxNewTokens: 16 });
 * // s.mode === 'beam', s.eosTokenIds = [2], s.maxNewTokens = 16
 */
export function resolveGenerationOptions(
  generationConfigJson: Readonly<Record<string, unknown>> | undefined,
  options: GenerationOptions | undefined = {},
): GenerationSettings {
  const fromCall = new Set<Key>();
  const raw: Partial<Record<Key, unknown>> = {};
  for (const key of Object.keys(JSON_NAMES) as Key[]) {
    const callValue = (options as Record<string, unknown>)[key];
    const jsonValue = generationConfigJson?.[JSON_NAMES[key]];
    if (callValue !== undefined) {
      raw[key] = callValue;
      fromCall.add(key);
    } else if (jsonValue !== undefined && jsonValue !== null) raw[key] = jsonValue;
  }
  const where = (key: Key) => (fromCall.has(key) ? `option ${key}` : `generation_config.json field "${JSON_NAMES[key]}"`);
  const fail = (key: Key, rule: string, hint?: string): never => {
    throw new MmftError(
      fromCall.has(key) ? 'E_INPUT' : 'E_CONFIG',
      `generate: ${where(key)} ${rule}, got ${JSON.stringify(raw[key])}`,
      hint ? { hint } : {},
    );
  };
  const int = (key: Key, min: number): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(key, `must be an integer ≥ ${min}`);
    return v as number;
  };
  const num = (key: Key, ok: (v: number) => boolean, rule: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(key, rule);
    return v as number;
  };

  const doSample = raw.doSample ?? DEFAULTS.doSample;
  if (typeof doSample !== 'boolean') return fail('doSample', 'must be true or false');
  const numBeams = int('numBeams', 1) ?? DEFAULTS.numBeams;
  const numReturnSequences = int('numReturnSequences', 1) ?? DEFAULTS.numReturnSequences;
  // TemperatureLogitsWarper refuses temperature ≤ 0, but it only exists when sampling.
  const temperature =
    num('temperature', (v) => !doSample || v > 0, 'must be > 0 when sampling (doSample: true); for greedy decoding set doSample: false') ??
    DEFAULTS.temperature;
  const earlyStopping = raw.earlyStopping ?? DEFAULTS.earlyStopping;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== 'never')
    return fail('earlyStopping', "must be true, false or 'never'");

  const mode: GenerationMode = numBeams === 1 ? (doSample ? 'sample' : 'greedy') : doSample ? 'beam-sample' : 'beam';
  if (mode === 'greedy' && numReturnSequences !== 1) {
    fail('numReturnSequences', 'must be 1 for greedy decoding (transformers refuses it too)', 'set doSample: true or numBeams > 1');
  }
  if (numBeams > 1 && numReturnSequences > numBeams) {
    fail('numReturnSequences', `must be ≤ numBeams (${numBeams})`, 'raise numBeams or lower numReturnSequences');
  }
  return {
    mode,
    maxNewTokens: int('maxNewTokens', 1),
    maxLength: int('maxLength', 1) ?? DEFAULTS.maxLength,
    maxLengthFromCall: fromCall.has('maxLength'),
    minNewTokens: int('minNewTokens', 0),
    minLength: int('minLength', 0) ?? DEFAULTS.minLength,
    doSample,
    numBeams,
    numReturnSequences,
    temperature,
    topK: int('topK', 0) ?? DEFAULTS.topK,
    topP: num('topP', (v) => v >= 0 && v <= 1, 'must be in [0, 1]') ?? DEFAULTS.topP,
    minP: num('minP', (v) => v >= 0 && v <= 1, 'must be in [0, 1]'),
    repetitionPenalty: num('repetitionPenalty', (v) => v > 0, 'must be > 0 (1 means no penalty)') ?? DEFAULTS.repetitionPenalty,
    noRepeatNgramSize: int('noRepeatNgramSize', 0) ?? DEFAULTS.noRepeatNgramSize,
    lengthPenalty: num('lengthPenalty', () => true, 'must be a finite number') ?? DEFAULTS.lengthPenalty,
    earlyStopping,
    eosTokenIds: tokenIds(raw.eosTokenId, () => fail('eosTokenId', 'must be a token id ≥ 0 or a list of them')),
    padTokenId: int('padTokenId', 0),
    bosTokenId: int('bosTokenId', 0),
    stopStrings: stopStrings(raw.stopStrings, () => fail('stopStrings', 'must be a non-empty string or a list of them')),
    seed: int('seed', Number.MIN_SAFE_INTEGER),
  };
}

function tokenIds(value: unknown, bad: () => never): number[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0)) bad();
  return [...new Set(list as number[])];
}

function stopStrings(value: unknown, bad: () => never): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) bad();
  return list as string[];
}

/**
 * maxLength / minLength once the prompt is known, as HF's `_prepare_generated_length`: maxNewTokens
 * wins (prompt ids + maxNewTokens); a prompt given only as embeddings counts against maxLength;
 * otherwise an untouched default of 20 means 20 new tokens (capped at maxPositionEmbeddings).
 * A prompt that already fills maxLength is refused, as `_validate_generated_length` does.
 *
 * @example
 * resolveLengths(resolveGenerationOptions({}, {}), 5); // { maxLength: 25, minLength: 0 }
 */
export function resolveLengths(
  s: GenerationSettings,
  promptIdsLength: number,
  embedsLength?: number,
  maxPositionEmbeddings?: number,
): GenerationLengths {
  const embedsOnly = embedsLength !== undefined && embedsLength !== promptIdsLength;
  let maxLength = s.maxLength;
  if (s.maxNewTokens !== undefined) maxLength = s.maxNewTokens + promptIdsLength;
  else if (embedsOnly) maxLength -= embedsLength;
  else if (!s.maxLengthFromCall && maxLength === DEFAULTS.maxLength) {
    maxLength += promptIdsLength;
    if (maxPositionEmbeddings !== undefined) maxLength = Math.min(maxLength, maxPositionEmbeddings);
  }
  let minLength = s.minLength;
  if (s.minNewTokens !== undefined) minLength = s.minNewTokens + promptIdsLength;
  else if (embedsOnly) minLength = Math.max(minLength - embedsLength, 0);
  if (promptIdsLength >= maxLength) {
    const counted = embedsOnly ? `${embedsLength} prompt embeddings` : `${promptIdsLength} prompt tokens`;
    throw new MmftError(
      'E_INPUT',
      `generate: maxLength ${s.maxLength} leaves no room for new tokens after ${counted} (maxLength counts the prompt)`,
      {
        hint: 'set maxNewTokens, which counts new tokens only',
      },
    );
  }
  return { maxLength, minLength };
}
