// Feature-based strategy, part 1: run the frozen encoders once over a dataset and keep the
// features on disk (<output>/features/<split>.safetensors). A later epoch, evaluation or run with
// the same model, data and text length reads the file and never calls the encoders again.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Dataset, Example, VisionLanguageModel } from '@mmft/core';
import type { Collator } from '../data/collate';
import { positiveTexts } from '../data/texts';
import { embedOne } from '../model/forward';
import { readTensorFile, writeTensorFile, type StoredTensor } from '@mmft/core/io';

/** Features of every example in dataset order; texts of example i are rows textStart[i]..textStart[i+1]. */
export interface FeatureTable {
  readonly count: number;
  readonly dim: number;
  readonly ids: readonly string[];
  readonly image: Float32Array;
  readonly text: Float32Array;
  readonly textStart: Int32Array;
  readonly negative: Float32Array;
  readonly negativeStart: Int32Array;
}

async function embedChunk(model: VisionLanguageModel, collator: Collator, chunk: readonly Example[], first: number) {
  const pixels = await collator.images(
    chunk,
    0,
    chunk.map((_, i) => first + i),
  );
  const image = embedOne(model, { pixelValues: pixels }, 'imageEmbeds');
  pixels.dispose();
  const embedTexts = async (texts: readonly string[]): Promise<Float32Array> => {
    if (texts.length === 0) return new Float32Array(0);
    const { inputIds, attentionMask } = collator.texts(texts);
    const out = embedOne(model, { inputIds, attentionMask }, 'textEmbeds');
    inputIds.dispose();
    attentionMask.dispose();
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  const positives = chunk.map(positiveTexts);
  const negatives = chunk.map((ex) => (ex.task === 'retrieval' ? (ex.negativeTexts ?? []) : []));
  const result = {
    dim: image.shape[1],
    image: (await image.data()) as Float32Array,
    text: await embedTexts(positives.flat()),
    negative: await embedTexts(negatives.flat()),
    positives,
    negatives,
  };
  image.dispose();
  return result;
}

const concat = (parts: readonly Float32Array[]): Float32Array => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

/**
 * Load `file` when its fingerprint matches, else embed the whole dataset and write it.
 *
 * @example
 * const table = await loadOrBuildFeatures(file, fingerprint, dataset, model, collator, 32);
 */
export async function loadOrBuildFeatures(
  file: string,
  fingerprint: string,
  dataset: Dataset,
  model: VisionLanguageModel,
  collator: Collator,
  batchSize: number,
): Promise<FeatureTable & { readonly fromCache: boolean }> {
  const cached = await readTensorFile(file).catch(() => undefined);
  if (cached && cached.metadata.fingerprint === fingerprint) {
    const t = (name: string) => cached.tensors.get(name)!.data;
    const image = cached.tensors.get('image')!;
    return {
      fromCache: true,
      count: image.shape[0]!,
      dim: image.shape[1]!,
      ids: JSON.parse(cached.metadata.ids!) as string[],
      image: t('image') as Float32Array,
      text: t('text') as Float32Array,
      textStart: t('text_start') as Int32Array,
      negative: t('negative') as Float32Array,
      negativeStart: t('negative_start') as Int32Array,
    };
  }
  model.root.eval();
  const parts: Awaited<ReturnType<typeof embedChunk>>[] = [];
  const ids: string[] = [];
  let chunk: Example[] = [];
  const flush = async () => {
    if (chunk.length) parts.push(await embedChunk(model, collator, chunk, ids.length - chunk.length));
    chunk = [];
  };
  for await (const example of dataset.iterate({ shuffle: false })) {
    chunk.push(example);
    ids.push(example.id);
    if (chunk.length === batchSize) await flush();
  }
  await flush();
  const starts = (lists: ReadonlyArray<readonly unknown[]>) =>
    Int32Array.from(
      [0, ...lists.map((l) => l.length)].map(
        (
          (sum) => (n) =>
            (sum += n)
        )(0),
      ),
    );
  const dim = parts[0]?.dim ?? 0;
  const table: FeatureTable = {
    count: ids.length,
    dim,
    ids,
    image: concat(parts.map((p) => p.image)),
    text: concat(parts.map((p) => p.text)),
    textStart: starts(parts.flatMap((p) => p.positives)),
    negative: concat(parts.map((p) => p.negative)),
    negativeStart: starts(parts.flatMap((p) => p.negatives)),
  };
  await fs.mkdir(path.dirname(file), { recursive: true });
  const rows = (data: Float32Array) => ({ shape: [data.length / Math.max(1, dim), dim], data });
  await writeTensorFile(
    file,
    new Map<string, StoredTensor>([
      ['image', rows(table.image)],
      ['text', rows(table.text)],
      ['negative', rows(table.negative)],
      ['text_start', { shape: [table.textStart.length], data: table.textStart }],
      ['negative_start', { shape: [table.negativeStart.length], data: table.negativeStart }],
    ]),
    { fingerprint, ids: JSON.stringify(ids) },
  );
  return { ...table, fromCache: false };
}
