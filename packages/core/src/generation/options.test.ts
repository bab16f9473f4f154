import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../errors';
import { resolveGenerationOptions, resolveLengths } from './options';

describe('resolveGenerationOptions', () => {
  test("HF's defaults when nothing is set", () => {
    const s = resolveGenerationOptions(undefined, {});
    expect(s).toMatchObject({
      mode: 'greedy',
      maxLength: 20,
      maxLengthFromCall: false,
      minLength: 0,
      doSample: false,
      numBeams: 1,
      numReturnSequences: 1,
      temperature: 1,
      topK: 50,
      topP: 1,
      repetitionPenalty: 1,
      noRepeatNgramSize: 0,
      lengthPenalty: 1,
      earlyStopping: false,
      eosTokenIds: [],
      stopStrings: [],
    });
    expect(s.maxNewTokens).toBeUndefined();
    expect(s.minP).toBeUndefined();
    expect(s.padTokenId).toBeUndefined();
  });

  test('generation_config.json (snake_case, null = unset) sits under the call options', () => {
    const json = {
      num_beams: 4,
      eos_token_id: [2, 7],
      pad_token_id: 1,
      top_k: null,
      early_stopping: true,
      max_length: 30,
      stop_strings: 'END',
    };
    const s = resolveGenerationOptions(json, { numBeams: 2, maxNewTokens: 5 });
    expect(s).toMatchObject({
      mode: 'beam',
      numBeams: 2,
      eosTokenIds: [2, 7],
      padTokenId: 1,
      topK: 50,
      earlyStopping: true,
      maxLength: 30,
    });
    expect(s).toMatchObject({ maxNewTokens: 5, maxLengthFromCall: false, stopStrings: ['END'] });
    expect(resolveGenerationOptions({ do_sample: true, num_beams: 3 }, {}).mode).toBe('beam-sample');
    expect(resolveGenerationOptions({ do_sample: true }, {}).mode).toBe('sample');
    expect(resolveGenerationOptions({ eos_token_id: 3 }, { eosTokenId: [4, 4] }).eosTokenIds).toEqual([4]);
  });

  const failure = (json: Record<string, unknown> | undefined, options: Record<string, unknown>) => {
    try {
      resolveGenerationOptions(json, options);
    } catch (e) {
      if (isMmftError(e)) return `${e.code}: ${e.message}`;
      throw e;
    }
    throw new Error('no error');
  };

  test('bad values are errors naming the option and where it came from', () => {
    expect(failure(undefined, { numBeams: 0 })).toMatch(/^E_INPUT: generate: option numBeams must be an integer ≥ 1, got 0/);
    expect(failure({ num_beams: 1.5 }, {})).toMatch(/^E_CONFIG: generate: generation_config.json field "num_beams" must be an integer/);
    expect(failure(undefined, { topP: 1.2 })).toMatch(/option topP must be in \[0, 1\]/);
    expect(failure(undefined, { topP: -0.1 })).toMatch(/option topP/);
    expect(failure(undefined, { minP: 2 })).toMatch(/option minP/);
    expect(failure(undefined, { topK: -1 })).toMatch(/option topK/);
    expect(failure(undefined, { doSample: true, temperature: 0 })).toMatch(/option temperature must be > 0 when sampling/);
    expect(failure({ do_sample: true, temperature: -1 }, {})).toMatch(/field "temperature"/);
    expect(failure(undefined, { repetitionPenalty: 0 })).toMatch(/option repetitionPenalty must be > 0/);
    expect(failure(undefined, { maxNewTokens: 0 })).toMatch(/option maxNewTokens must be an integer ≥ 1/);
    expect(failure(undefined, { earlyStopping: 'sometimes' })).toMatch(/option earlyStopping must be true, false or 'never'/);
    expect(failure(undefined, { eosTokenId: [2, -1] })).toMatch(/option eosTokenId must be a token id/);
    expect(failure(undefined, { stopStrings: [''] })).toMatch(/option stopStrings/);
    expect(failure(undefined, { doSample: 'yes' })).toMatch(/option doSample must be true or false/);
  });

  test("HF's refused combinations: several sequences from greedy, more sequences than beams", () => {
    expect(failure(undefined, { numReturnSequences: 2 })).toMatch(/numReturnSequences must be 1 for greedy decoding/);
    expect(failure(undefined, { numBeams: 2, numReturnSequences: 3 })).toMatch(/numReturnSequences must be ≤ numBeams \(2\)/);
    // Allowed: sampling several, beams returning up to numBeams, temperature 0 without sampling (HF only warns).
    expect(resolveGenerationOptions(undefined, { doSample: true, numReturnSequences: 3 }).numReturnSequences).toBe(3);
    expect(resolveGenerationOptions(undefined, { numBeams: 3, numReturnSequences: 3 }).numReturnSequences).toBe(3);
    expect(resolveGenerationOptions(undefined, { temperature: 0 }).mode).toBe('greedy');
  });
});

describe('resolveLengths (HF _prepare_generated_length)', () => {
  const lengths = (json: Record<string, unknown>, options: Record<string, unknown>, ids: number, embeds?: number, maxPos?: number) =>
    resolveLengths(resolveGenerationOptions(json, options), ids, embeds, maxPos);

  test('the untouched default max_length 20 means 20 new tokens, capped at max_position_embeddings', () => {
    expect(lengths({}, {}, 7)).toEqual({ maxLength: 27, minLength: 0 });
    expect(lengths({}, {}, 7, undefined, 16)).toEqual({ maxLength: 16, minLength: 0 });
    // generation_config.json writing 20 is still "the default"; another value counts the prompt.
    expect(lengths({ max_length: 20 }, {}, 7).maxLength).toBe(27);
    expect(lengths({ max_length: 30 }, {}, 7).maxLength).toBe(30);
    // The call setting maxLength 20 counts the prompt too.
    expect(lengths({}, { maxLength: 20 }, 7).maxLength).toBe(20);
  });

  test('maxNewTokens wins over maxLength; minNewTokens over minLength', () => {
    expect(lengths({ max_length: 12 }, { maxNewTokens: 3, minNewTokens: 2, minLength: 1 }, 7)).toEqual({ maxLength: 10, minLength: 9 });
    expect(lengths({ max_new_tokens: 4 }, { maxLength: 100 }, 7).maxLength).toBe(11);
  });

  test('a prompt given only as embeddings counts against maxLength and minLength', () => {
    expect(lengths({}, { maxLength: 10, minLength: 6 }, 0, 4)).toEqual({ maxLength: 6, minLength: 2 });
    // Even the default 20 (HF subtracts before it looks at the default).
    expect(lengths({}, {}, 0, 5)).toEqual({ maxLength: 15, minLength: 0 });
    expect(lengths({}, { maxNewTokens: 3 }, 0, 50)).toEqual({ maxLength: 3, minLength: 0 });
    // Ids and embeddings of the same positions: no correction.
    expect(lengths({}, { maxLength: 10 }, 4, 4).maxLength).toBe(10);
  });

  test('a prompt that already fills maxLength is refused with a hint', () => {
    expect(() => lengths({}, { maxLength: 5 }, 5)).toThrow(/maxLength 5 leaves no room for new tokens after 5 prompt tokens/);
    expect(() => lengths({}, {}, 0, 32)).toThrow(/after 32 prompt embeddings/);
  });
});
