// A `kind: embed-text` experiment: CLIP text embeddings (inference) in this process, as retrieval
// evaluation and `mmft serve`'s /v1/embeddings call the text tower: eval mode, the text tower and
// its projection on a batch of padded synthetic texts (the closed-form ones of synthetic.ts, eos at
// varying positions), L2-normalised as CLIPModel's text_embeds, read back to the host. Throughput is
// texts/s at the median batch time. The PyTorch peer runs the same (python/torch_peer.py run_text_embed).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ProviderResolver } from '@mmft/core';
import type { Experiment } from '../suite/experiment';
import { clipShapeOf, type ClipShape } from '../suite/flops';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { buildModel, selectEngine } from './build-run';
import { modelConfigOf, POOL_BATCHES, syntheticSpecOf, syntheticText } from './synthetic';

/**
 * GEMM FLOPs of text embeddings for `batch` texts of `textLength` tokens (2 per multiply-add, as
 * suite/flops.ts counts): per layer q/k/v/out 4·2TD², MLP 2·2TDI, scores and context 2·2T²D over the
 * whole padded length (the mask does not shorten the products), then the projection 2·D·P of the
 * pooled token.
 */
export function textEmbedFlops(shape: ClipShape, batch: number): number {
  const { width: d, layers, mlp } = shape.text;
  const t = shape.textLength;
  const perLayer = 8 * t * d * d + 4 * t * d * mlp + 4 * t * t * d;
  return batch * (layers * perLayer + 2 * d * shape.projection);
}

interface TextTower {
  getTextFeatures(inputs: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor;
}

/** x / ‖x‖ per row (CLIPModel's text_embeds). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.norm(x, 'euclidean', -1, true));
}

/**
 * Measure text-embedding extraction.
 *
 * @example
 * const result = await runEmbedText(experiment, registry);
 */
export async function runEmbedText(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const backend = await selectEngine(experiment, resolver);
  const model = await buildModel(experiment, resolver);
  const tower = model as unknown as Partial<TextTower>;
  if (typeof tower.getTextFeatures !== 'function') {
    throw new MmftError('E_CONFIG', `${experiment.file}: kind embed-text needs a CLIP model (getTextFeatures), not ${model.modelType}`);
  }
  model.root.eval();
  const { bench } = experiment;
  const batch = bench.batch_size ?? 32;
  const config = modelConfigOf(experiment);
  const spec = syntheticSpecOf(config, batch, bench.text_length);
  const pool = Array.from({ length: POOL_BATCHES }, (_, k) => {
    const { ids, mask } = syntheticText(spec, k);
    return {
      inputIds: tf.tensor2d(ids, [batch, spec.textLength], 'int32'),
      attentionMask: tf.tensor2d(mask, [batch, spec.textLength], 'int32'),
    };
  });
  const times: number[] = [];
  try {
    for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
      const start = performance.now();
      const embeds = tf.tidy(() => l2Normalize(tower.getTextFeatures!(pool[pass % pool.length]!)));
      await embeds.data();
      embeds.dispose();
      if (pass >= bench.warmup_steps) times.push(performance.now() - start);
    }
  } finally {
    tf.dispose(pool.flatMap((b) => [b.inputIds, b.attentionMask]));
    model.dispose();
  }
  const timing = summarize(times);
  const caps = backend.capabilities;
  return {
    side: 'mmft',
    throughput: (1000 * batch) / timing.medianMs,
    unit: 'texts/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: {
      name: backend.name,
      engine: caps.engine,
      threads: caps.threads,
      kernelOverrides: caps.kernelOverrides,
      tfjs: tf.version_core,
    },
    flops: textEmbedFlops(clipShapeOf(config, bench.text_length), batch),
  };
}
