// Pieces → token ids and labels. Each run of text between eos tokens is tokenized as a whole, and a
// piece's tokens are what tokenizing the run up to its end adds to tokenizing the run before it, as
// TRL's SFT does for prompt + completion (trl/trainer/sft_trainer.py): a word is never split where
// a prompt ends, and tokenizers that prepend "▁" to each call (Llama's) add it once. Where a token
// merges across the boundary it counts as the later piece's.
//
// A bridge's image span (ModelProcessor.imageTokens) is `count` image ids, never labelled: in front
// of everything ('prefix', Blip2Processor writes them before bos) or in place of each `<image>` mark
// ('placeholder'; the text on each side is tokenized on its own, as LLaVA's tokenizer_image_token
// in llava/mm_utils.py splits the prompt at the mark).
import { MmftError, type ImageTokens, type TextTokenizer } from '@mmft/core';
import { IMAGE_PLACEHOLDER, type Piece } from './pieces';

/** The ignored label (transformers' CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/** One example as ids, which of them are targets, and where its last target starts. */
export interface EncodedExample {
  readonly ids: number[];
  readonly target: boolean[];
  /** Index of the first token of the last target text piece: ids before it are the generation prompt. */
  readonly lastTargetStart: number;
  /** The image spans (start index, length) in `ids`: labels are -100 there and truncation may not cut them. */
  readonly spans: ReadonlyArray<{ readonly start: number; readonly length: number }>;
}

const commonPrefix = (a: readonly number[], b: readonly number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  return i;
};

/** What the tokenizer puts before a text when it adds special tokens (bos for Llama, `</s>` for OPT, nothing for GPT-2). */
export function specialPrefixIds(tokenizer: TextTokenizer): number[] {
  const probe = 'x';
  const bare = tokenizer.encode([probe], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
  const full = tokenizer.encode([probe], { addSpecialTokens: true, truncation: false }).inputIds[0]!;
  for (let at = 0; at + bare.length <= full.length; at += 1) {
    if (bare.every((id, i) => full[at + i] === id)) return full.slice(0, at);
  }
  return [];
}

/**
 * Tokenizes pieces (see the file comment); `prefix` goes first as prompt (a bos the template does
 * not write). With `image`, the example's image span is written as its placement says.
 */
export function encodePieces(
  pieces: readonly Piece[],
  tokenizer: TextTokenizer,
  eosId: number | undefined,
  prefix: readonly number[],
  image?: ImageTokens,
): EncodedExample {
  const ids: number[] = [];
  const target: boolean[] = [];
  const spans: Array<{ start: number; length: number }> = [];
  const span = () => {
    spans.push({ start: ids.length, length: image!.count });
    for (let k = 0; k < image!.count; k += 1) {
      ids.push(image!.tokenId);
      target.push(false);
    }
  };
  if (image?.placement === 'prefix') span();
  ids.push(...prefix);
  target.push(...prefix.map(() => false));
  let runText = '';
  let runIds: number[] = [];
  let lastTargetStart = -1;
  const parts: Array<Piece | { readonly image: true }> = [];
  for (const piece of pieces) {
    if (image?.placement !== 'placeholder' || 'eos' in piece || !piece.text.includes(IMAGE_PLACEHOLDER)) {
      parts.push(piece);
      continue;
    }
    piece.text.split(IMAGE_PLACEHOLDER).forEach((text, i) => {
      if (i > 0) parts.push({ image: true });
      if (text !== '') parts.push({ text, target: piece.target });
    });
  }
  for (const piece of parts) {
    if ('image' in piece) {
      span();
      runText = '';
      runIds = [];
      continue;
    }
    if ('eos' in piece) {
      if (eosId === undefined)
        throw new MmftError('E_CHECKPOINT', 'the tokenizer names no eos_token, which plain-template targets end with');
      ids.push(eosId);
      target.push(piece.target);
      runText = '';
      runIds = [];
      continue;
    }
    const text = runText + piece.text;
    const next = tokenizer.encode([text], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
    const keep = commonPrefix(runIds, next);
    const drop = runIds.length - keep;
    ids.splice(ids.length - drop, drop);
    target.splice(target.length - drop, drop);
    if (piece.target) lastTargetStart = ids.length;
    for (const id of next.slice(keep)) {
      ids.push(id);
      target.push(piece.target);
    }
    runText = text;
    runIds = next;
  }
  return { ids, target, lastTargetStart: lastTargetStart < 0 ? ids.length : lastTargetStart, spans };
}

/**
 * Labels of an encoded example cut to `maxLength`: ids where trained, -100 elsewhere and always on
 * image spans (train_on_prompt included). A span that would be cut is the caller's error to raise
 * (`spanCut`).
 */
export function labelsOf(example: EncodedExample, maxLength: number, trainOnPrompt: boolean): { ids: number[]; labels: number[] } {
  const ids = example.ids.slice(0, maxLength);
  const image = new Array<boolean>(ids.length).fill(false);
  for (const s of example.spans) for (let i = s.start; i < Math.min(s.start + s.length, ids.length); i += 1) image[i] = true;
  const labels = ids.map((id, i) => (!image[i] && (trainOnPrompt || example.target[i]) ? id : IGNORE_INDEX));
  return { ids, labels };
}

/** The first image span that truncation to `maxLength` would cut or drop, if any. */
export const spanCut = (example: EncodedExample, maxLength: number) => example.spans.find((s) => s.start + s.length > maxLength);

/** Label tokens the loss sums over: positions after the first (the model predicts token t from those before it). */
export const labelCount = (labels: readonly number[]): number => labels.slice(1).filter((l) => l !== IGNORE_INDEX).length;
