// What trains, shown as text (`mmft data preview`, docs/templates.md): an encoded example's tokens
// cut into runs of trained tokens, masked tokens (label -100) and image spans, each run decoded.
// Masked runs are wrapped in ⟦…⟧ (or dimmed with ANSI colour), an image span is written
// <image×N>, and tokens cut by max_length are counted, never shown.
import { imagesOf, type Example, type TextTokenizer } from '@mmft/core';
import { IGNORE_INDEX, labelCount, labelsOf, spanCut } from './encode';
import { createEncoder, type EncoderSetup } from './encoder';
import { exampleWhere } from './pieces';

export type RunKind = 'trained' | 'masked' | 'image';

export interface PreviewRun {
  readonly kind: RunKind;
  readonly text: string;
  readonly tokens: number;
}

export interface ExamplePreview {
  readonly where: string;
  readonly runs: readonly PreviewRun[];
  /** Tokens after truncation, and how many of them are trained, masked text, image. */
  readonly counts: {
    readonly total: number;
    readonly trained: number;
    readonly masked: number;
    readonly image: number;
    readonly cut: number;
  };
  /** Why training would stop at this row (an image span cut by max_length, nothing left to train), if it would. */
  readonly problem?: string;
}

export interface PreviewSetup extends EncoderSetup {
  readonly maxLength: number;
  readonly trainOnPrompt: boolean;
}

/**
 * Text of ids[from..to) as it reads inside the row: what decoding the row up to `to` adds to decoding
 * it up to `from` (a Llama tokenizer drops the "▁" of a run's first token when decoded alone).
 */
function runText(tokenizer: TextTokenizer, ids: readonly number[], start: number, from: number, to: number): string {
  // Some tokenizers refuse to decode no ids.
  const decode = (a: number, b: number) => (b > a ? tokenizer.decode(ids.slice(a, b), { skipSpecialTokens: false }) : '');
  const head = decode(start, from);
  const all = decode(start, to);
  return all.startsWith(head) ? all.slice(head.length) : decode(from, to);
}

/** Each example's runs and counts, through the same encoder the objective trains with. */
export function previewExamples(setup: PreviewSetup, examples: readonly Example[]): ExamplePreview[] {
  const encoder = createEncoder(setup);
  return examples.map((example, position) => {
    const encoded = encoder.encode(example, 0, position, imagesOf(example).length > 0);
    const { ids, labels } = labelsOf(encoded, setup.maxLength, setup.trainOnPrompt);
    const image = new Array<boolean>(ids.length).fill(false);
    for (const s of encoded.spans) for (let i = s.start; i < Math.min(s.start + s.length, ids.length); i += 1) image[i] = true;
    const kindAt = (i: number): RunKind => (image[i] ? 'image' : labels[i] === IGNORE_INDEX ? 'masked' : 'trained');
    const runs: PreviewRun[] = [];
    // Decoding restarts after each image span, as the text on each side of it is tokenized on its own.
    let textStart = 0;
    for (let i = 0; i < ids.length;) {
      const kind = kindAt(i);
      let j = i + 1;
      while (j < ids.length && kindAt(j) === kind) j += 1;
      if (kind === 'image') {
        runs.push({ kind, text: `<image×${j - i}>`, tokens: j - i });
        textStart = j;
      } else runs.push({ kind, text: runText(setup.tokenizer, ids, textStart, i, j), tokens: j - i });
      i = j;
    }
    const count = (kind: RunKind) => runs.filter((r) => r.kind === kind).reduce((n, r) => n + r.tokens, 0);
    // The objective's own checks (objective.ts rowOf): it refuses these rows with an error.
    const problem = spanCut(encoded, setup.maxLength)
      ? `its image span does not fit max_length ${setup.maxLength}, and an image is never cut: training stops with an error here`
      : labelCount(labels) === 0
        ? `nothing is left to train on after truncation to max_length ${setup.maxLength}: training stops with an error here`
        : undefined;
    return {
      where: exampleWhere(example),
      runs,
      problem,
      counts: {
        total: ids.length,
        trained: count('trained'),
        masked: count('masked'),
        image: count('image'),
        cut: encoded.ids.length - ids.length,
      },
    };
  });
}

const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/** Lines of one preview: a header with the counts, then the text with masked runs marked. */
export function formatPreview(preview: ExamplePreview, options: { color?: boolean } = {}): string[] {
  const c = preview.counts;
  const cut = c.cut > 0 ? `, ${c.cut} cut by max_length` : '';
  const header = `── ${preview.where}: ${c.total} tokens (${c.trained} trained, ${c.masked} masked, ${c.image} image${cut})`;
  const body = preview.runs
    .map((r) => {
      if (r.kind === 'trained') return r.text;
      if (options.color) return `${DIM}${r.text}${RESET}`;
      return r.kind === 'image' ? r.text : `⟦${r.text}⟧`;
    })
    .join('');
  return [header, ...body.split('\n'), ...(preview.problem ? [`!! ${preview.problem}`] : [])];
}
