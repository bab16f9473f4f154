// config.json of a Blip2ForImageTextRetrieval checkpoint: a Blip2Config (checkpoint/parse-config.ts)
// whose Q-Former takes text (`use_qformer_text_input: true`, as the retrieval checkpoints converted
// by transformers' convert_blip_2_original_to_pytorch.py set it: without the text feed-forward the
// text path has no weights). A fresh model defaults it to true; a file must say it.
import { MmftError } from '@mmft/core';
import { parseBlip2Config } from '../checkpoint/parse-config';
import type { Blip2Config } from '../config';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The architectures a retrieval folder may name in config.json (absent is accepted). */
export const BLIP2_RETRIEVAL_ARCHITECTURE = 'Blip2ForImageTextRetrieval';

/**
 * Validates a retrieval config.json; `fresh` (fromConfig) fills `use_qformer_text_input: true` when unset.
 *
 * @example
 * parseBlip2RetrievalConfig({ qformer_config: { hidden_size: 12 } }, 'config', { fresh: true }).qformer_config.use_qformer_text_input; // true
 */
export function parseBlip2RetrievalConfig(raw: unknown, source: string, options: { fresh: boolean }): Blip2Config {
  if (!isRecord(raw)) return parseBlip2Config(raw, source); // reports the type error
  const architectures = raw.architectures;
  if (Array.isArray(architectures) && architectures.length > 0 && architectures[0] !== BLIP2_RETRIEVAL_ARCHITECTURE) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: architectures[0] is ${JSON.stringify(architectures[0])}, not "${BLIP2_RETRIEVAL_ARCHITECTURE}"`,
      { hint: 'load Blip2ForConditionalGeneration folders with model: { type: blip2 } (it dispatches on architectures)' },
    );
  }
  const qformer = isRecord(raw.qformer_config) ? raw.qformer_config : {};
  const withText =
    options.fresh && qformer.use_qformer_text_input === undefined
      ? { ...raw, qformer_config: { ...qformer, use_qformer_text_input: true } }
      : raw;
  const config = parseBlip2Config(withText, source);
  if (!config.qformer_config.use_qformer_text_input) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: qformer_config.use_qformer_text_input is false, but Blip2ForImageTextRetrieval runs text through the Q-Former (intermediate / output feed-forward per layer)`,
      { hint: 'set qformer_config.use_qformer_text_input: true (transformers retrieval checkpoints have it)' },
    );
  }
  return config;
}
