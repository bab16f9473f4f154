// The caption an example contributes to a stage-1 batch: one of its positive texts drawn by
// (seed, epoch, position), stateless so a resumed run draws the same, then LAVIS's text processing
// when asked (lavis/processors/blip_processors.py, BlipCaptionProcessor: prompt + pre_caption).
import { MmftError, type Example } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';

/** Where an example came from, for messages: `id` (file:line). */
export const exampleWhere = (example: Example): string =>
  `example "${example.id}"${example.source ? ` (${example.source.file}:${example.source.line})` : ''}`;

/** The positive texts of a caption or retrieval example; any other task is an error naming the example. */
export function positiveTexts(example: Example): readonly string[] {
  const texts = example.task === 'caption' ? example.captions : example.task === 'retrieval' ? example.texts : undefined;
  if (!texts) {
    throw new MmftError('E_DATA', `${exampleWhere(example)} is a ${example.task} example; objective blip2-stage1 needs image-text pairs`, {
      hint: 'point data.train/data.eval at caption or retrieval data (an image and its captions)',
    });
  }
  if (texts.length === 0) {
    throw new MmftError('E_DATA', `${exampleWhere(example)} has no caption text`, { hint: 'give the example at least one caption' });
  }
  if (!example.image) {
    throw new MmftError('E_DATA', `${exampleWhere(example)} has no image; objective blip2-stage1 needs an image for every text`, {
      hint: 'give the example an "image" field',
    });
  }
  return texts;
}

/**
 * LAVIS's pre_caption with its default max_words 50: lower case, the characters .!"()*#:;~ become
 * spaces, runs of whitespace one space, trailing newlines and outer spaces dropped, cut to 50 words.
 *
 * @example
 * preCaption('A Red  Square.'); // 'a red square'
 */
export function preCaption(caption: string, maxWords = 50): string {
  const cleaned = caption
    .toLowerCase()
    .replace(/[.!"()*#:;~]/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .replace(/\n+$/, '')
    .replace(/^ +| +$/g, '');
  const words = cleaned.split(' ');
  return words.length > maxWords ? words.slice(0, maxWords).join(' ') : cleaned;
}

/** How captions are written before tokenisation. */
export interface TextOptions {
  readonly preCaption: boolean;
  readonly prompt: string;
}

/** `prompt` + the (cleaned) caption, as BlipCaptionProcessor builds it. */
export function processText(caption: string, options: TextOptions): string {
  return options.prompt + (options.preCaption ? preCaption(caption) : caption);
}

/**
 * The caption `example` contributes at `position` of `epoch` (one of several drawn uniformly).
 *
 * @example
 * pickCaption(example, 42, 0, 17, { preCaption: false, prompt: '' }); // 'a red square'
 */
export function pickCaption(example: Example, seed: number, epoch: number, position: number, options: TextOptions): string {
  const texts = positiveTexts(example);
  // A stream of its own: the image augmentation of the same position uses deriveSeed(seed, epoch, position).
  const rng = new SeededRng(deriveSeed(seed, epoch, position, 0x51a6e1));
  return processText(rng.pick(texts), options);
}
