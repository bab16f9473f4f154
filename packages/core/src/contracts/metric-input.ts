// What metrics read: typed records tagged by `kind`. Whoever produces predictions (an objective's
// evaluation, `mmft eval`, a script) emits these; each metric declares the one kind it consumes
// (`MetricProvider.consumes`), so producers and metrics meet here and never know each other's ids.
// The shapes are those LAVIS hands to its evaluators: caption results, VQA answers, similarities;
// plus instruction replies with their reference reply.

/**
 * Image-text retrieval: embeddings of images and of texts naming their image, or one whole
 * similarity matrix (`matrix[image][text]` with the image index of each text).
 *
 * @example
 * const input: RetrievalInput = { kind: 'retrieval', images: [{ id: 'a', embedding: [1, 0] }], texts: [{ imageId: 'a', embedding: [1, 0] }] };
 */
export interface RetrievalInput {
  readonly kind: 'retrieval';
  readonly images?: ReadonlyArray<{ readonly id: string; readonly embedding: ArrayLike<number> }>;
  readonly texts?: ReadonlyArray<{ readonly imageId: string; readonly embedding: ArrayLike<number> }>;
  /** `matrix[image][text]` and the image index of each text; excludes images/texts. */
  readonly similarity?: { readonly matrix: ReadonlyArray<ArrayLike<number>>; readonly textToImage: ArrayLike<number> };
}

/**
 * A generated text and the texts it is compared with (captions, short answers).
 *
 * @example
 * const input: TextInput = { kind: 'text', id: '1', prediction: 'a cat', references: ['a cat', 'the cat sits'] };
 */
export interface TextInput {
  readonly kind: 'text';
  readonly id: string;
  readonly prediction: string;
  readonly references: readonly string[];
}

/**
 * A VQA answer and the human answers (10 in VQA v2), with the optional breakdown types.
 *
 * @example
 * const input: VqaInput = { kind: 'vqa', id: 'q1', prediction: 'yes', answers: Array(10).fill('yes'), answerType: 'yes/no' };
 */
export interface VqaInput {
  readonly kind: 'vqa';
  readonly id: string;
  readonly prediction: string;
  readonly answers: readonly string[];
  readonly answerType?: string;
  readonly questionType?: string;
}

/**
 * A generated reply to an instruction and the reference reply: one per conversation, scored by
 * reference agreement (metric "instruction"). `instruction` is the last user turn's text without
 * `<image>` marks, for reports; `lang` picks language-specific scoring rules ("zh").
 *
 * @example
 * const input: InstructionInput = { kind: 'instruction', id: 'c1', prediction: 'Two circles.', reference: 'There are two circles.', instruction: 'How many circles are there?', lang: 'en' };
 */
export interface InstructionInput {
  readonly kind: 'instruction';
  readonly id: string;
  readonly prediction: string;
  readonly reference: string;
  readonly instruction: string;
  readonly lang?: string;
}

/** Every record a metric can read, discriminated by `kind`. */
export type MetricInput = RetrievalInput | TextInput | VqaInput | InstructionInput;
export type MetricInputKind = MetricInput['kind'];
export type MetricInputOf<K extends MetricInputKind> = Extract<MetricInput, { kind: K }>;

/** The kinds, in a fixed order, for messages and checks at run time. */
export const METRIC_INPUT_KINDS: readonly MetricInputKind[] = ['retrieval', 'text', 'vqa', 'instruction'];

/**
 * An input as a metric's own `update` accepts it when called directly: `kind` may be left out
 * (a metric reads one kind, so the tag only matters to whoever routes mixed inputs).
 *
 * @example
 * new CaptionMetric(config).update({ id: '1', prediction: 'a cat', references: ['a cat'] });
 */
export type Untagged<I extends MetricInput> = Omit<I, 'kind'> & { readonly kind?: I['kind'] };
