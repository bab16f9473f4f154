// The in-memory generator: image i → scene → PNG bytes → examples, without touching disk.
// Every image depends only on (seed, i), so any slice or order of the dataset can be produced.
import type { Example, ImageRef, TaskKind } from '@mmft/core';
import { languagesOf, type ShapesConfig } from './config';
import { buildExamples } from './examples';
import { renderScenePng } from './render';
import { sampleScene, type Scene } from './scene';
import { synthConversation } from './synth';

export interface ShapesSample {
  readonly index: number;
  readonly scene: Scene;
  /** Path the writer stores the image under, relative to the output folder. */
  readonly imagePath: string;
  readonly png: Uint8Array;
}

/** "images/000042.png" — zero-padded so file listings sort in dataset order. */
export const imagePathOf = (index: number): string => `images/${String(index).padStart(6, '0')}.png`;

/** Render image `index` of the dataset described by `config`. */
export async function renderSample(config: ShapesConfig, index: number): Promise<ShapesSample> {
  const scene = sampleScene(config.seed, index, config.domain, config.maxObjects);
  return { index, scene, imagePath: imagePathOf(index), png: await renderScenePng(scene, config.imageSize) };
}

/** The examples of one rendered sample for `task`. */
export function examplesOf(config: ShapesConfig, sample: ShapesSample, task: TaskKind): Example[] {
  const image: ImageRef = {
    kind: 'bytes',
    bytes: sample.png,
    format: 'png',
    key: `shapes-${config.domain}-s${config.seed}/${sample.imagePath}`,
  };
  const source = `shapes-${config.domain}-${String(sample.index).padStart(6, '0')}`;
  if (task === 'instruction' && config.templates) {
    // The records `mmft data synth` writes (synth-write.ts, same ids), in memory. They are not
    // deduplicated: every image keeps templates × languages examples, so sizes and resume
    // positions stay known up front (a template pair wording one conversation identically is rare).
    return config.templates.flatMap((template) =>
      languagesOf(config.lang).map((lang): Example => ({
        id: `${source}-${template}-${lang}`,
        task: 'instruction',
        image,
        lang,
        turns: synthConversation(sample.scene, template, lang, config.seed).turns,
      })),
    );
  }
  return buildExamples(sample.scene, image, source, {
    task,
    langs: languagesOf(config.lang),
    questionsPerImage: config.questionsPerImage,
  });
}

/** Examples per image for a task (fixed, so sizes and resume positions are known up front). */
export function examplesPerImage(config: ShapesConfig, task: TaskKind): number {
  const perLanguage = task === 'vqa' ? config.questionsPerImage : task === 'instruction' && config.templates ? config.templates.length : 1;
  return languagesOf(config.lang).length * perLanguage;
}

/**
 * Render images `indices` in order, `concurrency` at a time (sharp works off the main thread).
 *
 * @example
 * for await (const sample of renderSamples(config, [0, 1, 2])) console.log(sample.imagePath);
 */
export async function* renderSamples(config: ShapesConfig, indices: Iterable<number>, concurrency = 8): AsyncGenerator<ShapesSample> {
  const queue: Promise<ShapesSample>[] = [];
  for (const index of indices) {
    const job = renderSample(config, index);
    job.catch(() => undefined); // awaited below in order; avoid unhandled rejections if the consumer stops
    queue.push(job);
    if (queue.length >= concurrency) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}
