// @mmft/metric-vqa: the plugin object (STYLE.md §5) plus the normaliser and scorer for direct use.
import { registerProviders, type MmftPlugin } from '@mmft/core';
import { vqaMetric } from './plugin';

export { vqaMetric } from './plugin';
export { VqaMetric, type VqaUpdate } from './vqa-metric';
export { vqaConfigSchema, type VqaConfig, type VqaConfigInput } from './config';
export { vqaAccuracy } from './accuracy';
export { VQA_VARIANTS, VQA_VARIANT_NAMES, type VqaVariant, type VqaVariantName, type Compared } from './variants';
export { cleanAnswer, normalizeAnswer, processPunctuation, processDigitArticle } from './normalize';
export { PYTHON2, PYTHON3, type PythonText } from './python-text';
export { pythonRound, python2Round } from './python-round';

const VERSION: string = (require('../package.json') as { version: string }).version;
const provides = [vqaMetric];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/metric-vqa'); registry.resolve('metric', 'vqa');
 */
const plugin: MmftPlugin = {
  meta: { name: '@mmft/metric-vqa', version: VERSION, description: "VQA accuracy (official vqaEval.py, or LAVIS's copy)" },
  provides,
  register: (container) => registerProviders(container, provides),
};
export default plugin;
