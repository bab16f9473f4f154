// Evaluation by generate(): metric inputs for caption (text), VQA and instruction examples. An
// instruction example feeds `instruction` inputs when a metric reads them, else `text` inputs (so a
// caption metric still scores instruction-only data), docs/metrics.md.
import * as tf from '@tensorflow/tfjs-core';
import type { Example, GenerationOptions, GenerationResult, MetricInput, ModelInputs, ModelProcessor } from '@mmft/core';
import { padRows } from './batch';
import type { CausalLmConfig } from './config';
import type { EncodedRow } from './encoder';
import { conversationOf, lastInstruction, promptMessages } from './pieces';

/** What the objective uses of a causal LM or a vision→LLM bridge. */
export interface TextGenerator {
  readonly modelType: string;
  readonly processor: ModelProcessor;
  forward(inputs: ModelInputs): { readonly logits?: tf.Tensor; readonly loss?: tf.Tensor };
  generate(inputs: ModelInputs, options: GenerationOptions): Promise<GenerationResult>;
}

/** What generations are made with. */
export interface GenerateSetup {
  readonly lm: TextGenerator;
  readonly config: CausalLmConfig;
  readonly padId: number;
  readonly decoding: GenerationOptions;
}

/** What a generation for `example` feeds, given the kinds the metrics read; undefined: nothing reads it. */
export const inputKindOf = (example: Example, kinds: ReadonlySet<string>): 'text' | 'vqa' | 'instruction' | undefined => {
  if (example.task === 'vqa') return kinds.has('vqa') ? 'vqa' : undefined;
  if (example.task === 'instruction' && kinds.has('instruction')) return 'instruction';
  return (example.task === 'caption' || example.task === 'instruction') && kinds.has('text') ? 'text' : undefined;
};

/** The generation of a run's metric inputs. */
export function createGenerateFor({ lm, config, padId, decoding }: GenerateSetup) {
  /** Metric inputs of one evaluated chunk: generations for caption, VQA and instruction examples (with their rows' pixels). */
  const generateFor = async (
    examples: readonly Example[],
    kinds: ReadonlySet<string>,
    pixels: tf.Tensor | undefined,
    encodedRows: readonly EncodedRow[],
    imageRows: readonly (readonly number[])[],
  ): Promise<MetricInput[]> => {
    const wanted = examples
      .map((example, i) => ({ example, row: i, kind: inputKindOf(example, kinds), encoded: encodedRows[i]! }))
      .filter((w) => w.kind !== undefined);
    if (wanted.length === 0) return [];
    // The prompt is the row up to the query's target: an episode's demos stay in it.
    const prompts = wanted.map(({ encoded }) => ({ ids: encoded.ids.slice(0, Math.min(encoded.lastTargetStart, config.max_length)) }));
    // Decoder-only generation continues the right end of every row: prompts are left-padded.
    const { inputIds, attentionMask } = padRows(prompts, padId, 'left');
    // Left padding goes before a prefix image span; positions come from the mask, so this equals
    // Blip2Processor's padding between the span and the text. Each wanted row takes its own images.
    const gathered = wanted.flatMap((w) => imageRows[w.row]!);
    const pixelValues = pixels && gathered.length > 0 ? tf.tidy(() => tf.gather(pixels, tf.tensor1d(gathered, 'int32'))) : undefined;
    try {
      const result = await lm.generate(pixelValues ? { pixelValues, inputIds, attentionMask } : { inputIds, attentionMask }, decoding);
      return wanted.map(({ example, kind }, i): MetricInput => {
        const prediction = (result.texts[i] ?? '').trim();
        if (example.task === 'vqa') {
          return {
            kind: 'vqa',
            id: example.id,
            prediction,
            answers: example.answers ?? [example.answer],
            answerType: example.answerType,
            questionType: example.questionType,
          };
        }
        if (example.task === 'caption') return { kind: 'text', id: example.id, prediction, references: example.captions };
        // The reply generated is the last assistant turn's, from every turn before it (the encoded prompt).
        const conversation = conversationOf(example, config.prompts, () => 0);
        const reference = promptMessages(conversation).reference ?? '';
        if (kind === 'instruction') {
          const instruction = lastInstruction(conversation);
          return { kind, id: example.id, prediction, reference, instruction, ...(example.lang ? { lang: example.lang } : {}) };
        }
        return { kind: 'text', id: example.id, prediction, references: [reference] };
      });
    } finally {
      tf.dispose([inputIds, attentionMask, ...(pixelValues ? [pixelValues] : [])]);
    }
  };

  return generateFor;
}
