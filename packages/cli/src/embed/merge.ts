// The shards of an `mmft embed` run merged in order: one safetensors file and index.jsonl, the
// same bytes whether one process or several workers computed them.
import { MmftError, serializeSafetensors } from '@mmft/core';
import { concat, floats } from './float-rows';
import type { EmbedShardResult } from './range';

/** One row of index.jsonl. */
export type EmbedIndexRow =
  | { readonly kind: 'image'; readonly row: number; readonly id: string; readonly image: string }
  | { readonly kind: 'text'; readonly row: number; readonly id: string; readonly text: string; readonly image_row: number };

/** The shards of a run, merged in order: the safetensors bytes and index.jsonl text. */
export function mergeEmbedShards(shards: readonly EmbedShardResult[]): {
  readonly safetensors: Uint8Array;
  readonly index: string;
  readonly images: number;
  readonly texts: number;
  readonly dim: number;
} {
  const dim = shards.find((s) => s.images.length > 0)?.dim ?? 0;
  const rows: EmbedIndexRow[] = [];
  const imageParts: Float32Array[] = [];
  const textParts: Float32Array[] = [];
  let imageRow = 0;
  let textRow = 0;
  for (const shard of shards) {
    if (shard.images.length > 0 && shard.dim !== dim) {
      throw new MmftError('E_SHAPE', `shards disagree on the feature width (${shard.dim} and ${dim}): were they computed by one model?`);
    }
    const first = imageRow;
    for (const image of shard.images) rows.push({ kind: 'image', row: imageRow++, id: image.id, image: image.image });
    for (const t of shard.texts)
      rows.push({ kind: 'text', row: textRow++, id: shard.images[t.owner]!.id, text: t.text, image_row: first + t.owner });
    imageParts.push(floats(shard.imageEmbeds));
    textParts.push(floats(shard.textEmbeds));
  }
  const safetensors = serializeSafetensors(
    {
      image_embeds: { dtype: 'F32', shape: [imageRow, dim], data: concat(imageParts) },
      text_embeds: { dtype: 'F32', shape: [textRow, dim], data: concat(textParts) },
    },
    { format: 'pt' },
  );
  // Images first, then texts: a reader takes each kind's rows in order.
  const ordered = [...rows.filter((r) => r.kind === 'image'), ...rows.filter((r) => r.kind === 'text')];
  return {
    safetensors,
    index: ordered.map((r) => JSON.stringify(r)).join('\n') + (ordered.length ? '\n' : ''),
    images: imageRow,
    texts: textRow,
    dim,
  };
}
