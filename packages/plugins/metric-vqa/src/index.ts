// @mmft/metric-vqa: the plugin object (docs/conventions.md §5) plus the normaliser and scorer for direct use.
import { definePlugin } from '@mmft/core';
import { vqaMetric } from './plugin';

export { vqaMetric } from './plugin';
export { VqaMetric, type VqaUpdate } from './vqa-metric';
export { vqaConfigSchema, type VqaConfig, type VqaConfigInput } from './config';
export { vqaAccuracy } from './accuracy';
export { VQA_VARIANTS, VQA_VARIANT_NAMES, type VqaVariant, type VqaVariantName, type Compared } from './variants';
export { cleanAnswer, normalizeAnswer, processPunctuation, processDigitArticle } from './normalize';
export { PYTHON2, PYTHON3, type PythonText } from './python-text';
export { pythonRound, python2Round } from './python-round';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [vqaMetric];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/metric-vqa'); registry.resolve('metric', 'vqa');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: "VQA accuracy (official vqaEval.py, or LAVIS's copy)",
  provides,
});
export default plugin;
