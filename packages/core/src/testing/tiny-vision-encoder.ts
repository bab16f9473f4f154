// The smallest vision encoder for tests of bridges (LLaVA) that build their tower through the
// registry: a VisionEncoderModel of a few tf ops whose hidden states a test recomputes by hand.
// State 0 = [class token; patches · Wᵀ + b], state k = state k−1 + tanh(state k−1 · W_kᵀ + b_k),
// so every layer index gives different numbers and a wrong index or dropped CLS shows at once.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ArchitectureProvider } from '../contracts/architecture';
import type { ModelInputs, ModelOutputs, ModelProcessor } from '../contracts/model';
import type { VisionEncoderModel } from '../contracts/vision-encoder';
import { MmftError } from '../errors';
import { deriveSeed, normal } from '../nn/init';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** config.json of the tiny encoder (model_type "tiny_vision"). */
export interface TinyVisionConfig {
  readonly hidden_size: number;
  readonly image_size: number;
  readonly patch_size: number;
  readonly num_hidden_layers: number;
  /** Whether position 0 is a class token (CLIP-like) or not (SigLIP-like). */
  readonly class_token: boolean;
}

const tinyVisionConfigSchema = z.looseObject({
  model_type: z.string().default('tiny_vision'),
  hidden_size: z.number().int().positive().default(4),
  image_size: z.number().int().positive().default(4),
  patch_size: z.number().int().positive().default(2),
  num_hidden_layers: z.number().int().positive().default(2),
  class_token: z.boolean().default(true),
});

/**
 * pixels [B, 3, S, S] → patches [B, (S/p)², 3·p·p], each patch flattened channel-major then row, column
 * (the order of CLIP's conv weight [H, 3, p, p] flattened), patches in reading order.
 */
export function flattenPatches(pixels: tf.Tensor, patchSize: number): tf.Tensor {
  return tf.tidy(() => {
    const [b, c, s] = pixels.shape as [number, number, number, number];
    const g = s / patchSize;
    const grid = tf.reshape(pixels, [b, c, g, patchSize, g, patchSize]);
    return tf.reshape(tf.transpose(grid, [0, 2, 4, 1, 3, 5]), [b, g * g, c * patchSize * patchSize]);
  });
}

/** The model `tinyVisionEncoder` builds; its parameters are `vision_model.*` as CLIPVisionModel's. */
export class TinyVisionEncoder implements VisionEncoderModel {
  readonly modelType = 'tiny_vision';
  readonly family = 'vision-encoder' as const;
  readonly root: Module;
  readonly processor: ModelProcessor;
  readonly config: Readonly<Record<string, unknown>>;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly hasClassToken: boolean;
  /** How many encoder layers the last hiddenStates call ran (tests check early stopping). */
  layersRun = 0;

  constructor(config: TinyVisionConfig, seed = 1) {
    this.config = { model_type: 'tiny_vision', ...config };
    this.hiddenSize = config.hidden_size;
    this.numLayers = config.num_hidden_layers;
    this.imageSize = config.image_size;
    this.patchSize = config.patch_size;
    this.hasClassToken = config.class_token;
    if (config.image_size % config.patch_size !== 0) {
      throw new MmftError('E_CONFIG', `tiny_vision: image_size ${config.image_size} is not a multiple of patch_size ${config.patch_size}`);
    }
    const h = config.hidden_size;
    this.root = new Container();
    const vision = this.root.registerModule('vision_model', new Container());
    const embeddings = vision.registerModule('embeddings', new Container());
    embeddings.registerModule('patch_embedding', new Linear(3 * config.patch_size ** 2, h, { seed: deriveSeed(seed, 'patch') }));
    if (config.class_token) embeddings.createParameter('class_embedding', [h], normal(1), { seed: deriveSeed(seed, 'cls') });
    const layers = vision.registerModule('encoder', new Container()).registerModule('layers', new Container());
    for (let k = 0; k < config.num_hidden_layers; k++) {
      layers.registerModule(String(k), new Container()).registerModule('fc', new Linear(h, h, { seed: deriveSeed(seed, `layer${k}`) }));
    }
    this.processor = {
      imageProcessing: { size: config.image_size, cropSize: config.image_size, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      towers: { vision: ['**'] },
    };
  }

  hiddenStates(pixelValues: tf.Tensor, layers?: readonly number[]): tf.Tensor[] {
    const total = this.numLayers + 1;
    const wanted = (layers ?? Array.from({ length: total }, (_, i) => i)).map((i) => (i < 0 ? total + i : i));
    for (const i of wanted) {
      if (!Number.isInteger(i) || i < 0 || i >= total)
        throw new MmftError('E_CONFIG', `tiny_vision: no hidden state ${i} (0…${total - 1})`);
    }
    const deepest = Math.max(...wanted);
    const states: tf.Tensor[] = [];
    tf.tidy(() => {
      const embeddings = this.root.getModule('vision_model.embeddings');
      let h = embeddings.child<Linear>('patch_embedding').forward(flattenPatches(pixelValues, this.patchSize));
      if (this.hasClassToken) {
        const b = h.shape[0]!;
        const cls = tf.tile(tf.reshape(embeddings.param('class_embedding'), [1, 1, this.hiddenSize]), [b, 1, 1]);
        h = tf.concat([cls, h], 1);
      }
      states.push(h);
      for (let k = 0; k < deepest; k++) {
        const fc = this.root.getModule<Linear>(`vision_model.encoder.layers.${k}.fc`);
        h = tf.add(h, tf.tanh(fc.forward(h)));
        states.push(h);
      }
      this.layersRun = deepest;
      wanted.forEach((i) => tf.keep(states[i]!));
    });
    return wanted.map((i) => states[i]!);
  }

  forward(inputs: ModelInputs): ModelOutputs {
    if (!inputs.pixelValues) throw new MmftError('E_INPUT', 'tiny_vision.forward needs pixelValues');
    const [last] = this.hiddenStates(inputs.pixelValues, [-1]);
    return { lastHiddenState: last! };
  }

  async save(dir: string): Promise<void> {
    throw new MmftError('E_UNSUPPORTED', `tiny_vision is a test model and has no folder layout (${dir})`);
  }

  dispose(): void {
    this.root.dispose();
  }
}

/**
 * `TinyVisionEncoder` from a partial config (hidden_size 4, image_size 4, patch_size 2, 2 layers, a class token).
 *
 * @example
 * const tower = tinyVisionEncoder({ hidden_size: 4 });
 * const [state] = tower.hiddenStates(pixels, [-2]); // [B, 1 + (4/2)², 4]
 */
export function tinyVisionEncoder(config: Partial<TinyVisionConfig> = {}, seed?: number): TinyVisionEncoder {
  return new TinyVisionEncoder(tinyVisionConfigSchema.parse(config), seed);
}

const tinyVisionSectionSchema = z.strictObject({
  config: tinyVisionConfigSchema.prefault({}).describe('hidden_size, image_size, patch_size, num_hidden_layers, class_token'),
  seed: z.number().int().optional().describe('seed of the weights'),
  tokenizer: z.string().optional().describe('accepted for the model: section shape; unused'),
  ignoreUnexpected: z.boolean().optional().describe('accepted for the model: section shape; unused'),
});

/**
 * `tinyVisionEncoder` as an architecture provider (model_type "tiny_vision"), so bridges build it
 * from `vision_config: { model_type: 'tiny_vision' }` through a test registry.
 *
 * @example
 * const context = architectureContext({ list: () => [tinyVisionEncoderProvider, tinyCausalLmProvider, llavaProvider] });
 */
export const tinyVisionEncoderProvider: ArchitectureProvider<z.output<typeof tinyVisionSectionSchema>> = {
  kind: 'architecture',
  id: 'tiny-vision',
  description: 'test vision encoder: linear patch embedding, class token, residual tanh layers',
  configSchema: tinyVisionSectionSchema,
  family: 'vision-encoder',
  modelTypes: ['tiny_vision'],
  async fromConfig(raw) {
    const section = tinyVisionSectionSchema.parse(raw);
    return new TinyVisionEncoder(section.config, section.seed ?? 1);
  },
  async fromPretrained(dir) {
    throw new MmftError('E_UNSUPPORTED', `tiny_vision has no checkpoint folders (${dir}); build it with fromConfig`);
  },
};
