// Test-only fixtures: a tiny query transformer written here with plain tf ops over a few variables
// (so the objective is tested against core's contract alone, never a real architecture plugin), a
// word-level BERT-like tokenizer ([CLS] text [SEP], [PAD] 0, [DEC] as decoder start) and in-memory
// caption data of SVG squares.
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Example, ObjectiveContext, QueryImageOutputs, QueryTransformerModel, TextTokenizer } from '@mmft/core';
import { PluginRegistry } from '@mmft/core';
import { Module, registerGradients } from '@mmft/core/nn';

export const WORDS = ['[PAD]', '[CLS]', '[SEP]', '[DEC]', 'a', 'red', 'green', 'blue', 'square', 'circle', 'big', 'small', 'the'];
const CLS = 1;
const SEP = 2;
export const DEC = 3;

/** Word-level tokenizer with BERT's special tokens and truncation ([CLS] + words + [SEP] within maxLength). */
export const wordTokenizer: TextTokenizer = {
  vocabSize: WORDS.length,
  specialTokenIds: { pad: 0, bos: DEC },
  paddingSide: 'right',
  encode(texts, options = {}) {
    const rows = texts.map((text) => {
      const ids = text
        .split(/\s+/)
        .filter((w) => w.length > 0)
        .map((w) => {
          const id = WORDS.indexOf(w);
          if (id < 0) throw new Error(`unknown word ${w}`);
          return id;
        });
      const max = options.truncation && options.maxLength ? options.maxLength - 2 : ids.length;
      return [CLS, ...ids.slice(0, max), SEP];
    });
    const width = Math.max(...rows.map((r) => r.length));
    return {
      inputIds: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(0)]),
      attentionMask: rows.map((r) => [...r.map(() => 1), ...new Array<number>(width - r.length).fill(0)]),
    };
  },
  decode: (ids) => ids.map((i) => WORDS[i]).join(' '),
};

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** Deterministic small values: sin of a running index, scaled. */
const filled = (shape: number[], offset: number, scale = 0.5) => {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: size }, (_, i) => scale * Math.sin(1.3 * (i + offset) + 0.7)),
    shape,
  );
};

const l2 = (x: tf.Tensor) => tf.div(x, tf.norm(x, 'euclidean', -1, true));

/** Masked mean over the tokens: [B, T, D] × [B, T] → [B, D]. */
function pooled(embeds: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const m = tf.expandDims(tf.cast(mask, 'float32'), -1);
  return tf.div(tf.sum(tf.mul(embeds, m), 1), tf.sum(m, 1));
}

export interface FakeOptions {
  readonly queries?: number;
  readonly hidden?: number;
  readonly embed?: number;
  readonly temperature?: number;
}

/**
 * The fake query transformer. Image: patches (one per pixel, 3 channels) → tanh(·Wv) = image embeds;
 * query states = mean patch embed + query token; features = normalised projection. Text feature:
 * normalised projection of (first token embed + mean token embed). Match: mean over queries of
 * tanh(mean image + query + mean text)·W_itm. Grounded: tanh(causal running mean of the token
 * embeds + mean image)·W_lm.
 */
export function fakeQueryTransformer(options: FakeOptions = {}): QueryTransformerModel & { calls: Record<string, number> } {
  const q = options.queries ?? 2;
  const d = options.hidden ?? 4;
  const e = options.embed ?? 3;
  const v = WORDS.length;
  const root = new Container();
  const p = (name: string, value: tf.Tensor) => root.registerParameter(name, tf.variable(value, true));
  const wv = p('patch', filled([3, d], 0));
  const queryTokens = p('query_tokens', filled([q, d], 20));
  const visionProjection = p('vision_projection', filled([d, e], 40));
  const words = p('word_embeddings', filled([v, d], 60));
  const textProjection = p('text_projection', filled([d, e], 120));
  const itm = p('itm_head', filled([d, 2], 140));
  const lm = p('lm_head', filled([d, v], 160));
  const temperature = p('temp', tf.scalar(options.temperature ?? 0.07));
  const calls: Record<string, number> = { encodeImage: 0, encodeText: 0, matchLogits: 0, groundedTextLogits: 0 };
  const meanImage = (imageEmbeds: tf.Tensor) => tf.mean(imageEmbeds, 1);
  return {
    modelType: 'fake-qformer',
    family: 'query-transformer',
    root,
    config: { model_type: 'fake-qformer' },
    processor: {
      tokenizer: wordTokenizer,
      imageProcessing: { size: 4, cropSize: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      towers: { qformer: ['**'] },
    },
    tokenizer: wordTokenizer,
    imageProcessing: { size: 4, cropSize: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    numQueryTokens: q,
    maxTextLength: 32,
    temperature,
    decoderStartTokenId: DEC,
    calls,
    encodeImage(pixelValues): QueryImageOutputs {
      calls.encodeImage! += 1;
      const [b, c, h, w] = pixelValues.shape as number[];
      const patches = tf.transpose(tf.reshape(pixelValues, [b!, c!, h! * w!]), [0, 2, 1]);
      const imageEmbeds = tf.reshape(tf.tanh(tf.matMul(tf.reshape(patches, [b! * h! * w!, c!]), wv)), [b!, h! * w!, d]);
      const states = tf.add(tf.expandDims(meanImage(imageEmbeds), 1), queryTokens);
      const imageFeats = l2(tf.reshape(tf.matMul(tf.reshape(states, [b! * q, d]), visionProjection), [b!, q, e]));
      return { imageEmbeds, imageFeats };
    },
    encodeText(inputIds, attentionMask) {
      calls.encodeText! += 1;
      const embeds = tf.gather(words, inputIds);
      const first = tf.squeeze(tf.slice(embeds, [0, 0, 0], [-1, 1, -1]), [1]);
      return l2(tf.matMul(tf.add(first, pooled(embeds, attentionMask)), textProjection));
    },
    matchLogits(inputIds, attentionMask, imageEmbeds) {
      calls.matchLogits! += 1;
      const text = pooled(tf.gather(words, inputIds), attentionMask);
      const states = tf.tanh(tf.add(tf.expandDims(tf.add(meanImage(imageEmbeds), text), 1), queryTokens)); // [B, Q, D]
      const [b] = states.shape as number[];
      return tf.mean(tf.reshape(tf.matMul(tf.reshape(states, [b! * q, d]), itm), [b!, q, 2]), 1);
    },
    groundedTextLogits(inputIds, _attentionMask, imageEmbeds) {
      calls.groundedTextLogits! += 1;
      const embeds = tf.gather(words, inputIds); // [B, T, D]
      const [b, t] = inputIds.shape as number[];
      // running mean over positions ≤ t (tfjs' cumsum gradient is wrong off the last axis, so a triangular matmul)
      const lower = tf.tensor2d(
        Array.from({ length: t! * t! }, (_, k) => (k % t! <= Math.floor(k / t!) ? 1 / (Math.floor(k / t!) + 1) : 0)),
        [t!, t!],
      );
      const byPosition = tf.reshape(tf.transpose(embeds, [1, 0, 2]), [t!, b! * d]);
      const running = tf.transpose(tf.reshape(tf.matMul(lower, byPosition), [t!, b!, d]), [1, 0, 2]);
      const states = tf.tanh(tf.add(running, tf.expandDims(meanImage(imageEmbeds), 1)));
      return tf.reshape(tf.matMul(tf.reshape(states, [b! * t!, d]), lm), [b!, t!, v]);
    },
    forward: () => ({}),
    save: async () => undefined,
    dispose: () => root.dispose(),
  };
}

const COLORS = ['red', 'green', 'blue'];
const SHAPES = ['square', 'circle'];

const svg = (color: string, big: boolean) =>
  new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="white"/><rect x="${big ? 0 : 2}" y="${big ? 0 : 2}" width="${big ? 8 : 4}" height="${big ? 8 : 4}" fill="${color}"/></svg>`,
  );

/** Caption examples: image i a square of colour i % 3, big from 3 on; two captions each. */
export const captions: Example[] = Array.from({ length: 6 }, (_, i) => ({
  task: 'caption',
  id: `c${i}`,
  image: { kind: 'bytes' as const, bytes: svg(COLORS[i % 3]!, i >= 3), format: 'svg' as const, key: `img-${i}` },
  captions: [`a ${i >= 3 ? 'big' : 'small'} ${COLORS[i % 3]} square`, `the ${COLORS[i % 3]} ${SHAPES[i % 2]}`],
}));

export function memory(examples: readonly Example[]): Dataset {
  return {
    task: examples[0]?.task ?? 'caption',
    size: examples.length,
    async *iterate(options = {}) {
      yield* examples.slice(options.startAt ?? 0);
    },
  };
}

let ready = false;

/** A context over a fresh fake model (cpu backend, core's gradients registered). */
export async function fakeContext(
  outputDir: string,
  options: { model?: QueryTransformerModel; eval?: readonly Example[]; seed?: number } = {},
): Promise<ObjectiveContext> {
  if (!ready) {
    await tf.setBackend('cpu');
    registerGradients();
    ready = true;
  }
  return {
    model: options.model ?? fakeQueryTransformer(),
    resolver: new PluginRegistry(),
    recipe: { model: { type: 'fake-qformer' }, objective: { type: 'blip2-stage1' } },
    seed: options.seed ?? 5,
    outputDir,
    train: memory(captions),
    eval: memory(options.eval ?? captions),
    batchSize: 4,
  };
}
