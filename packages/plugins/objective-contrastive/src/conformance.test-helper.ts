// Test-only fixtures: the tiny HF-layout CLIP of @mmft/arch-clip, its clip loss from
// @mmft/loss-contrastive, and in-memory caption / vqa splits of SVG squares.
import * as tf from '@tensorflow/tfjs-core';
import {
  definePlugin,
  PluginRegistry,
  type AnyProvider,
  type Dataset,
  type Example,
  type ObjectiveContext,
  type VisionLanguageModel,
} from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { ClipModel, tinyClipDir } from '@mmft/arch-clip';
import { clipLoss } from '@mmft/loss-contrastive';

const COLORS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'square', 'triangle'];

const svg = (color: string, big: boolean) =>
  new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="white"/><rect x="${big ? 0 : 2}" y="${big ? 0 : 2}" width="${big ? 8 : 4}" height="${big ? 8 : 4}" fill="${color}"/></svg>`,
  );

const image = (i: number) => ({ kind: 'bytes' as const, bytes: svg(COLORS[i % 3]!, i >= 3), format: 'svg' as const, key: `img-${i}` });

/** Caption examples: two captions each, the tiny CLIP's words only. */
export const captions: Example[] = Array.from({ length: 6 }, (_, i) => ({
  task: 'caption',
  id: `c${i}`,
  image: image(i),
  captions: [`a ${COLORS[i % 3]} ${SHAPES[i % 3]}`, `${COLORS[i % 3]} ${SHAPES[(i + 1) % 3]}`],
}));

/** VQA examples with ten human answers each (colour questions). */
export const questions: Example[] = Array.from({ length: 4 }, (_, i) => ({
  task: 'vqa',
  id: `q${i}`,
  image: image(i),
  question: 'what color',
  answer: COLORS[i % 3]!,
  answers: Array.from({ length: 10 }, () => COLORS[i % 3]!),
  answerType: 'other',
}));

export function memory(examples: readonly Example[]): Dataset {
  const tasks = [...new Set(examples.map((e) => e.task))];
  return {
    task: examples[0]!.task,
    ...(tasks.length > 1 ? { tasks } : {}),
    size: examples.length,
    async *iterate(options = {}) {
      yield* examples.slice(options.startAt ?? 0);
    },
  };
}

let model: Promise<VisionLanguageModel> | undefined;

/** The tiny CLIP, loaded once per test process. */
export async function tinyModel(): Promise<VisionLanguageModel> {
  if (!model) {
    await tf.setBackend('cpu');
    registerGradients();
    model = tinyClipDir().then((dir) => ClipModel.fromPretrained(dir));
  }
  return model;
}

/** An objective context over the tiny CLIP with `loss: { type: clip }`. */
export async function tinyContext(
  outputDir: string,
  evalSet: readonly Example[] = captions,
  train: Record<string, unknown> = {},
): Promise<ObjectiveContext> {
  const registry = new PluginRegistry();
  registry.use(
    definePlugin({ name: 'test-fixtures', version: '0.0.0', description: 'the clip loss', provides: [clipLoss] as AnyProvider[] }),
    'test-fixtures',
  );
  return {
    model: await tinyModel(),
    resolver: registry,
    recipe: { loss: { type: 'clip' }, model: { type: 'clip' }, data: { train: { type: 'memory' }, eval: { type: 'memory' } }, train },
    seed: 3,
    outputDir,
    train: memory(captions),
    eval: memory(evalSet),
    batchSize: 4,
  };
}
