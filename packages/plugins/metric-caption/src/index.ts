// @mmft/metric-caption: the plugin object (docs/conventions.md §5) plus the scorers for direct use.
import { definePlugin } from '@mmft/core';
import { captionMetric } from './plugin';

export { captionMetric } from './plugin';
export { CaptionMetric, type CaptionReport, type CaptionUpdate } from './caption-metric';
export { captionConfigSchema, type CaptionConfig } from './config';
export { bleuStats, corpusBleuStats, corpusBleu, type BleuStats } from './bleu';
export { rougeL, rougeLOf, lcsLength } from './rouge';
export { ciderItem, ciderScores, corpusCider, type CiderItem } from './cider';
export { CookedCorpus, MAX_N } from './ngrams';
export { ptbTokenize, PTB_PUNCTUATIONS } from './ptb-tokenizer';
export {
  charTokenize,
  chineseCharTokenize,
  jiebaTokenize,
  whitespaceTokenize,
  tokenizerFor,
  resolveTokenizer,
  TOKENIZER_NAMES,
  type TokenizerName,
  type ResolvedTokenizer,
} from './tokenizers';
export { numpyMean } from './numpy-sum';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [captionMetric];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/metric-caption'); registry.resolve('metric', 'caption');
 */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'COCO caption metrics (pycocoevalcap)', provides });
export default plugin;
