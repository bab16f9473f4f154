// Test-only fixtures: a tiny dual encoder built from @mmft/core/nn (so these tests do not depend
// on the CLIP plugin), an in-memory caption/retrieval dataset of SVG squares, a word tokenizer, a
// test InfoNCE loss and a test retrieval metric, registered as plugins of one run.
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import {
  PluginRegistry,
  registerProviders,
  type AnyProvider,
  type ArchitectureProvider,
  type Dataset,
  type DatasetProvider,
  type Example,
  type LossProvider,
  type MetricProvider,
  type ModelInputs,
  type RetrievalInput,
  type RunReporter,
  type TextTokenizer,
  type VisionLanguageModel,
} from '@mmft/core';
import { Embedding, LayerNorm, Linear, Module } from '@mmft/core/nn';
// The loop's tests drive it with the first-party objective (a test-only dependency).
import { contrastiveObjective } from '@mmft/objective-contrastive';
import { deriveSeed, SeededRng } from '@mmft/image';

export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white', 'cyan', 'pink', 'gray', 'brown'];
const WORDS = ['<pad>', 'a', 'square', 'small', 'big', ...COLORS];

export const counters = { imageForwards: 0, textForwards: 0 };

const tokenizer: TextTokenizer = {
  vocabSize: WORDS.length,
  encode(texts, options = {}) {
    const ids = texts.map((t) =>
      t
        .split(' ')
        .map((w) => Math.max(0, WORDS.indexOf(w)))
        .slice(0, options.maxLength ?? 77),
    );
    const length = Math.max(...ids.map((r) => r.length));
    return {
      inputIds: ids.map((r) => [...r, ...new Array<number>(length - r.length).fill(0)]),
      attentionMask: ids.map((r) => r.map(() => 1).concat(new Array<number>(length - r.length).fill(0))),
    };
  },
  decode: (ids) => ids.map((i) => WORDS[i]).join(' '),
};

class TinyDual extends Module<[ModelInputs], Record<string, tf.Tensor>> {
  constructor(seed: number) {
    super();
    this.registerModule('vision_model', new Linear(3 * 4 * 4, 16, { seed }));
    this.registerModule('visual_projection', new Linear(16, 8, { seed: seed + 1, bias: false }));
    this.registerModule('token_embedding', new Embedding(WORDS.length, 16, { seed: seed + 2 }));
    this.registerModule('text_norm', new LayerNorm(16));
    this.registerModule('text_projection', new Linear(16, 8, { seed: seed + 3, bias: false }));
    this.createParameter('logit_scale', [], (shape) => tf.fill([...shape], Math.log(10)));
  }
  forward(inputs: ModelInputs): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      if (inputs.pixelValues) {
        counters.imageForwards += 1;
        const flat = tf.reshape(inputs.pixelValues, [inputs.pixelValues.shape[0]!, -1]);
        out.imageEmbeds = this.child<Linear>('visual_projection').forward(tf.tanh(this.child<Linear>('vision_model').forward(flat)));
      }
      if (inputs.inputIds) {
        counters.textForwards += 1;
        const mask = tf.expandDims(tf.cast(inputs.attentionMask!, 'float32'), 2);
        const summed = tf.sum(tf.mul(this.child<Embedding>('token_embedding').forward(inputs.inputIds), mask), 1);
        const pooled = tf.div(summed, tf.sum(mask, 1));
        out.textEmbeds = this.child<Linear>('text_projection').forward(this.child<LayerNorm>('text_norm').forward(pooled));
      }
      return out;
    });
  }
}

const imageProcessing = { size: 4, cropSize: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;
const towers = {
  vision: ['vision_model.**', 'visual_projection.**'],
  text: ['token_embedding.**', 'text_norm.**', 'text_projection.**'],
  head: ['logit_scale'],
};

function wrap(root: TinyDual, config: Record<string, unknown>): VisionLanguageModel {
  return {
    modelType: 'tiny-dual',
    family: 'dual-encoder',
    root,
    config,
    tokenizer,
    imageProcessing,
    processor: { tokenizer, imageProcessing, towers },
    forward: (inputs) => root.forward(inputs),
    async save(dir) {
      await fs.mkdir(dir, { recursive: true });
      const weights: Record<string, number[]> = {};
      for (const [name, v] of root.stateDict()) weights[name] = Array.from(await v.data());
      await fs.writeFile(path.join(dir, 'weights.json'), JSON.stringify({ config, weights }));
    },
    dispose: () => root.dispose(),
  };
}

export const tinyArchitecture: ArchitectureProvider<{ seed: number }> = {
  kind: 'architecture',
  id: 'tiny-dual',
  description: 'test dual encoder',
  family: 'dual-encoder',
  modelTypes: ['tiny-dual'],
  configSchema: z.object({ seed: z.number().default(1).describe('init seed') }),
  fromConfig: async (config) => wrap(new TinyDual(config.seed ?? 1), config),
  async fromPretrained(dir) {
    const { config, weights } = JSON.parse(await fs.readFile(path.join(dir, 'weights.json'), 'utf8')) as {
      config: { seed: number };
      weights: Record<string, number[]>;
    };
    const root = new TinyDual(config.seed);
    const tensors = new Map(Object.entries(weights).map(([k, v]) => [k, tf.tensor(v, root.stateDict().get(k)!.shape)] as const));
    root.loadStateDict(tensors);
    tf.dispose([...tensors.values()]);
    return wrap(root, config);
  },
};

const svg = (color: string, big: boolean) =>
  new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="white"/><rect x="${big ? 0 : 2}" y="${big ? 0 : 2}" width="${big ? 8 : 4}" height="${big ? 8 : 4}" fill="${color}"/></svg>`,
  );

/** `count` examples: a square of colour i; retrieval ones carry a hard negative of the next colour. */
export function makeExamples(count: number, task: 'caption' | 'retrieval', offset = 0): Example[] {
  return Array.from({ length: count }, (_, i) => {
    const color = COLORS[(i + offset) % COLORS.length]!;
    const big = Math.floor((i + offset) / COLORS.length) % 2 === 1;
    const image = { kind: 'bytes' as const, bytes: svg(color, big), format: 'svg' as const, key: `${color}-${big}` };
    const texts = [`a ${big ? 'big' : 'small'} ${color} square`, `a ${color} square`];
    const base = { id: `ex-${i + offset}`, image };
    return task === 'caption'
      ? { ...base, task, captions: texts }
      : { ...base, task, texts, negativeTexts: [`a ${COLORS[(i + offset + 1) % COLORS.length]} square`] };
  });
}

export const memoryDataset: DatasetProvider<{ name: string }> = {
  kind: 'dataset',
  id: 'memory',
  description: 'examples held in memory (tests)',
  tasks: ['caption', 'retrieval'],
  configSchema: z.object({ name: z.string().describe('key in DATASETS') }),
  async open(config): Promise<Dataset> {
    const examples = DATASETS[config.name]!;
    return {
      task: examples[0]!.task,
      size: examples.length,
      async *iterate(options = {}) {
        const order = options.shuffle ? new SeededRng(deriveSeed(options.seed ?? 0, options.epoch ?? 0)).shuffle(examples) : examples;
        yield* order.slice(options.startAt ?? 0);
      },
    };
  },
};
export const DATASETS: Record<string, Example[]> = { train: makeExamples(12, 'retrieval'), eval: makeExamples(6, 'caption', 3) };

/** Image→text + text→image InfoNCE with the model's logitScale, and a NaN switch for tests. */
export const testLoss: LossProvider<{ nan_at_call?: number }> = {
  kind: 'loss',
  id: 'test-infonce',
  description: 'test InfoNCE',
  configSchema: z.object({ nan_at_call: z.number().optional().describe('return NaN from this call on') }),
  create(config) {
    let calls = 0;
    return {
      compute(outputs) {
        calls += 1;
        return tf.tidy(() => {
          const norm = (x: tf.Tensor) => tf.div(x, tf.norm(x, 'euclidean', 1, true));
          const [img, txt] = [norm(outputs.imageEmbeds!), norm(outputs.textEmbeds!)];
          const b = img.shape[0]!;
          const logits = tf.mul(tf.matMul(img, txt, false, true), tf.exp(outputs.logitScale ?? tf.scalar(Math.log(10))));
          const ce = (l: tf.Tensor) =>
            tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.range(0, l.shape[0]!, 1, 'int32'), l.shape[1]!), tf.logSoftmax(l)), 1)));
          const value = tf.div(tf.add(ce(logits), ce(tf.transpose(tf.slice(logits, [0, 0], [b, b])))), 2);
          return (config.nan_at_call !== undefined && calls >= config.nan_at_call ? tf.mul(value, NaN) : value) as tf.Scalar;
        });
      },
    };
  },
};

/** Image→text Recall@1 over the trainer's retrieval adapter updates. */
export const testRetrieval: MetricProvider<Record<string, never>, RetrievalInput> = {
  kind: 'metric',
  id: 'retrieval',
  consumes: 'retrieval',
  description: 'test i2t R@1',
  configSchema: z.object({}),
  scores: { 'i2t_R@1': 'higher' },
  create() {
    let images: { id: string; embedding: ArrayLike<number> }[] = [];
    let texts: { imageId: string; embedding: ArrayLike<number> }[] = [];
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0) / Math.hypot(...Array.from(a)) / Math.hypot(...Array.from(b));
    return {
      reset: () => void ((images = []), (texts = [])),
      update: (u) => void (Array.isArray(u) ? u : [u]).forEach((x) => (images.push(...x.images!), texts.push(...x.texts!))),
      compute: () => ({
        scores: {
          'i2t_R@1':
            (100 *
              images.filter(
                (im) =>
                  texts.reduce((best, t) => (dot(im.embedding, t.embedding) > dot(im.embedding, best.embedding) ? t : best)).imageId ===
                  im.id,
              ).length) /
            images.length,
        },
      }),
    };
  },
};

export function registry(extra: readonly AnyProvider[] = []): PluginRegistry {
  const providers = [tinyArchitecture, memoryDataset, testLoss, testRetrieval, contrastiveObjective, ...extra] as AnyProvider[];
  const r = new PluginRegistry();
  r.use(
    {
      meta: { name: 'test-fixtures', version: '0.0.0' },
      provides: providers,
      register: (c: Parameters<typeof registerProviders>[0]) => registerProviders(c, providers),
    },
    'test-fixtures',
  );
  return r;
}

/** A reporter that records what the trainer reported. */
export function recordingReporter(onProgress?: (step: number) => void): RunReporter & { lines: string[]; steps: number[] } {
  const lines: string[] = [];
  const steps: number[] = [];
  return {
    lines,
    steps,
    info: (m) => void lines.push(m),
    warn: (m) => void lines.push(`warning: ${m}`),
    progress: ({ step }) => {
      steps.push(step);
      onProgress?.(step);
    },
  };
}
