// How the trainer feeds evaluation embeddings to metric providers. Metrics are generic streams
// (MetricProvider.update of the provider's own type), so each metric id the trainer can feed has
// an adapter here from one chunk of embeddings to that metric's update. Adding a metric that
// consumes embeddings = one row in this table.
import { MmftError } from '@mmft/core';

/** One evaluation batch: L2-comparable embeddings of images and of all their texts. */
export interface EvalChunk {
  readonly ids: readonly string[];
  readonly dim: number;
  /** [ids.length × dim] row-major. */
  readonly image: Float32Array;
  /** [textOwner.length × dim] row-major; row t is a text of image ids[textOwner[t]]. */
  readonly text: Float32Array;
  readonly textOwner: readonly number[];
}

type Adapter = (chunk: EvalChunk) => unknown;

const row = (data: Float32Array, i: number, dim: number) => data.subarray(i * dim, (i + 1) * dim);

/** metric id → update builder. "retrieval": @mmft/metric-retrieval's RetrievalUpdate (embeddings form). */
export const METRIC_ADAPTERS: Readonly<Record<string, Adapter>> = {
  retrieval: (chunk) => ({
    images: chunk.ids.map((id, i) => ({ id, embedding: row(chunk.image, i, chunk.dim) })),
    texts: chunk.textOwner.map((owner, t) => ({ imageId: chunk.ids[owner]!, embedding: row(chunk.text, t, chunk.dim) })),
  }),
};

/** The adapter of `metricId`, or an error listing the metrics the trainer can feed. */
export function adapterFor(metricId: string): Adapter {
  const adapter = METRIC_ADAPTERS[metricId];
  if (!adapter) {
    throw new MmftError('E_UNSUPPORTED', `the standard trainer cannot feed metric "${metricId}" during training; it feeds: ${Object.keys(METRIC_ADAPTERS).join(', ')}`, {
      hint: 'remove it from the recipe\'s metrics: list, or score it afterwards with `mmft eval`',
    });
  }
  return adapter;
}
