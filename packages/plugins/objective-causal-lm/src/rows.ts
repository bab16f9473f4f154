// Examples → training rows of the causal-LM objective: an example's episode (few-shot demos before
// it, encoder.ts), its image spans (the processor's image span, ModelProcessor.imageTokens, written
// into the ids with labels -100), and labels cut to max_length. Image-less rows (text, image-less
// instructions) train as text on a 'placeholder' bridge (LLaVA, IDEFICS); a model that reads an
// image in every row (BLIP-2, either layout) takes exactly one and rejects the others with the
// example named.
import { imagesOf, MmftError, type Example } from '@mmft/core';
import type { CausalLmConfig, FewShotConfig } from './config';
import type { DemoSources } from './demo-sources';
import { labelCount, labelsOf, spanCut } from './encode';
import type { EncodedRow, Encoder } from './encoder';
import { drawDemos, drawShots, takesDemos, type DemoPool } from './episodes';
import type { ImageMode } from './images';
import { exampleWhere, type ImageMarks } from './pieces';

/** What the rows of a run are encoded with. */
export interface RowSetup {
  readonly config: CausalLmConfig;
  readonly lm: { readonly modelType: string };
  readonly mode: ImageMode;
  readonly marks: ImageMarks;
  readonly encoder: Encoder;
  readonly fewShot: FewShotConfig | undefined;
  readonly sources: DemoSources | undefined;
}

/** The row encoding of a run: how many demos an example takes, and its row. */
export function createRows({ config, lm, mode, marks, encoder, fewShot, sources }: RowSetup) {
  /** Whether the example's image spans are written; an example the model cannot read is an error (see the file comment). */
  const readsImages = (example: Example): boolean => {
    if (mode.kind === 'none') return false;
    const images = imagesOf(example).length;
    if (images > 1 && marks !== 'keep') {
      throw new MmftError('E_DATA', `${exampleWhere(example)} has ${images} images; model "${lm.modelType}" reads one image per row`, {
        hint: 'use a bridge that reads an image per <image> mark (llava, idefics), or give each example one image',
      });
    }
    if (images > 0) return true;
    if (marks === 'keep') {
      const marked = example.task === 'instruction' && example.turns.some((t) => t.content.includes('<image>'));
      if (!marked) return false;
      throw new MmftError('E_DATA', `${exampleWhere(example)} has an <image> mark but no image`, {
        hint: 'give the example an "image" field, or remove the <image> mark from its text',
      });
    }
    throw new MmftError(
      'E_DATA',
      `${exampleWhere(example)} (task ${example.task}) has no image; model "${lm.modelType}" reads an image in every row (its image span has no text-only form)`,
      {
        hint: 'drop image-less examples from this data (or train the language model alone on them, with model.type of the language model)',
      },
    );
  };

  /** How many demos go before `example` at (epoch, position) in `phase`: train_shots' draw in training, shots in evaluation. */
  const shotsFor = (example: Example, epoch: number, position: number, phase: 'train' | 'eval'): number => {
    if (!fewShot || !sources || !takesDemos(example)) return 0;
    return phase === 'train' ? drawShots(fewShot.train_shots, fewShot.seed, epoch, position) : fewShot.shots;
  };

  /**
   * The row of `example` at (epoch, position): its episode of `k` demos from `pool` (training: every
   * demo's target trained; evaluation: only the query's), with demos dropped from the front until it
   * fits max_length.
   */
  const encodeRow = (
    example: Example,
    epoch: number,
    position: number,
    phase: 'train' | 'eval',
    k: number,
    pool?: DemoPool,
  ): EncodedRow => {
    const image = readsImages(example);
    let demos = k === 0 ? [] : drawDemos(pool!, example, k, fewShot!.seed, epoch, position, sources![phase].where);
    let encoded = encoder.encodeEpisode(demos, example, epoch, position, image, phase === 'train');
    while (demos.length > 0 && encoded.ids.length > config.max_length) {
      demos = demos.slice(1);
      encoded = encoder.encodeEpisode(demos, example, epoch, position, image, phase === 'train');
    }
    return encoded;
  };

  const rowOf = (example: Example, epoch: number, position: number, phase: 'train' | 'eval', k: number, pool?: DemoPool) => {
    const encoded = encodeRow(example, epoch, position, phase, k, pool);
    const cut = spanCut(encoded, config.max_length);
    if (cut) {
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)}: its image span (positions ${cut.start}..${cut.start + cut.length - 1}) does not fit objective.max_length ${config.max_length}, and an image is never cut`,
        { hint: `raise objective.max_length above ${cut.start + cut.length} plus the text to train on, or shorten or drop this example` },
      );
    }
    const row = labelsOf(encoded, config.max_length, config.train_on_prompt);
    if (labelCount(row.labels) === 0) {
      const after = encoded.spans.length > 0 ? ' after its image span' : '';
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)}: nothing is left to train on${after} after truncation to objective.max_length ${config.max_length} (the prompt takes every position)`,
        { hint: 'raise objective.max_length, or shorten or drop this example (mmft data validate lists long examples)' },
      );
    }
    // A model that places the image itself (legacy BLIP-2) has no span: its one image is the query's.
    const images = mode.kind === 'model' ? imagesOf(example) : encoded.images;
    return { ...row, encoded, images };
  };

  return { shotsFor, rowOf };
}
