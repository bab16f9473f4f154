// generate() and its streaming form for decoder-only models, as transformers' GenerationMixin.generate
// (generation/utils.py): settings merged and checked, lengths fixed from the prompt, one DynamicCache for
// the call (disposed at the end, also on error or when a stream is abandoned), then greedy/sampling
// (`_sample`) or beam search (`_beam_search`).
import type { GenerationChunk } from '../contracts/causal-lm';
import type { GenerationOptions, GenerationResult, ModelInputs } from '../contracts/model';
import { MmftError } from '../errors';
import { beamSearch } from './beam-search';
import { resolveGenerationOptions, resolveLengths } from './options';
import { DecodingRunner, readPrompt, type Prompt } from './runner';
import { sampleLoop } from './sample-loop';
import { stoppingCriteria } from './stopping';
import { RowTextStreamer } from './streamer';
import type { GenerationContext, GenerationLengths, GenerationModel, GenerationSettings } from './types';

interface Prepared {
  readonly settings: GenerationSettings;
  readonly prompt: Prompt;
  readonly lengths: GenerationLengths;
  readonly isDone: (history: readonly number[]) => boolean;
}

async function prepare(inputs: ModelInputs, options: GenerationOptions, context: GenerationContext): Promise<Prepared> {
  const settings = resolveGenerationOptions(context.generationConfig, options);
  const prompt = await readPrompt(inputs, settings);
  const promptIds = inputs.inputIds ? prompt.length : 0;
  const lengths = resolveLengths(settings, promptIds, inputs.inputsEmbeds ? prompt.length : undefined, context.maxPositionEmbeddings);
  return { settings, prompt, lengths, isDone: stoppingCriteria(settings, lengths, context.tokenizer) };
}

/**
 * Decodes new tokens after the prompt (`inputIds` with `attentionMask`, left-padded for batches, or
 * `inputsEmbeds` on the first step). Returns, per input and returned sequence (row b·n + j), the new ids
 * up to and including the one that ended the row (EOS or the last stop-string token), unpadded; the texts
 * decoded with special tokens skipped (empty without a tokenizer); and beam scores under beam search.
 *
 * @example
 * const { sequences, texts } = await generate(model, { inputIds, attentionMask }, { maxNewTokens: 20 }, { tokenizer });
 */
export async function generate(
  model: GenerationModel,
  inputs: ModelInputs,
  options: GenerationOptions = {},
  context: GenerationContext = {},
): Promise<GenerationResult> {
  const { settings, prompt, lengths, isDone } = await prepare(inputs, options, context);
  const beams = settings.numBeams > 1;
  const runner = new DecodingRunner(model, prompt, beams ? settings.numBeams : settings.numReturnSequences);
  try {
    let sequences: number[][];
    let sequencesScores: number[] | undefined;
    if (beams) {
      ({ sequences, scores: sequencesScores } = await beamSearch(runner, prompt, settings, lengths, isDone));
    } else {
      const loop = sampleLoop(runner, prompt, settings, lengths, isDone);
      let step = await loop.next();
      while (!step.done) step = await loop.next();
      sequences = step.value;
    }
    const tokenizer = context.tokenizer;
    const texts = tokenizer ? sequences.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: true })) : [];
    return sequencesScores ? { sequences, texts, sequencesScores } : { sequences, texts };
  } finally {
    runner.dispose();
  }
}

/**
 * The same decoding (greedy or sampling), one chunk per step: each row's new id (−1 once the row is
 * done) and the text that became final with it (TextStreamer's rule, see streamer.ts); a row's last
 * chunk carries the rest of its text. Beam search cannot stream, as in transformers: it picks its
 * sequences only at the end. Breaking out of the loop disposes the cache.
 *
 * @example
 * for await (const chunk of generateStream(model, { inputIds }, { maxNewTokens: 50 }, { tokenizer })) {
 *   process.stdout.write(chunk.texts[0]!);
 * }
 */
export async function* generateStream(
  model: GenerationModel,
  inputs: ModelInputs,
  options: GenerationOptions = {},
  context: GenerationContext = {},
): AsyncGenerator<GenerationChunk, void> {
  const { settings, prompt, lengths, isDone } = await prepare(inputs, options, context);
  if (settings.numBeams > 1) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `generateStream: beam search (numBeams ${settings.numBeams}) cannot stream; it chooses its sequences only at the end`,
      {
        hint: 'call generate() for beam search, or stream with numBeams: 1 (greedy or doSample)',
      },
    );
  }
  const runner = new DecodingRunner(model, prompt, settings.numReturnSequences);
  const tokenizer = context.tokenizer;
  const streamers = tokenizer ? Array.from({ length: runner.rows }, () => new RowTextStreamer(tokenizer)) : undefined;
  try {
    for await (const step of sampleLoop(runner, prompt, settings, lengths, isDone)) {
      const texts = step.tokens.map((id, r) => {
        if (!streamers || id < 0) return '';
        const text = streamers[r]!.put(id);
        return step.done[r] ? text + streamers[r]!.end() : text;
      });
      yield { tokens: step.tokens, texts };
    }
  } finally {
    runner.dispose();
  }
}
