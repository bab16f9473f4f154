// Which texts a training example contributes to its batch: one positive caption chosen by a
// seeded draw per (seed, epoch, position) — stateless, so a resumed run draws the same captions —
// and, for retrieval triplets, one hard negative (NegCLIP's one negative per image).
import { MmftError, type Example } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';

/** All positive texts of a caption or retrieval example; other tasks are refused. */
export function positiveTexts(example: Example): readonly string[] {
  if (example.task === 'caption') return example.captions;
  if (example.task === 'retrieval') return example.texts;
  throw new MmftError(
    'E_DATA',
    `example "${example.id}"${example.source ? ` (${example.source.file}:${example.source.line})` : ''} is a ${example.task} example; the contrastive objective needs caption or retrieval examples`,
    {
      hint: 'point data.train at caption or retrieval data, or use a generative objective',
    },
  );
}

/**
 * The caption and optional negative of `example` at `position` of `epoch`.
 *
 * @example
 * pickTexts(example, 42, 0, 17, true); // { positive: 'a red square', negative: 'a blue square' }
 */
export function pickTexts(
  example: Example,
  seed: number,
  epoch: number,
  position: number,
  hardNegatives: boolean,
): { positive: string; negative?: string } {
  const texts = positiveTexts(example);
  if (texts.length === 0) throw new MmftError('E_DATA', `example "${example.id}" has no caption text`);
  const rng = new SeededRng(deriveSeed(seed, epoch, position));
  const positive = rng.pick(texts);
  const negatives = example.task === 'retrieval' ? (example.negativeTexts ?? []) : [];
  return hardNegatives && negatives.length > 0 ? { positive, negative: rng.pick(negatives) } : { positive };
}
