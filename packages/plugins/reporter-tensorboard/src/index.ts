// @mmft/reporter-tensorboard: the plugin object (docs/conventions.md §5) plus the reporter.
import { definePlugin } from '@mmft/core';
import { tensorboardReporter } from './plugin';

export { tensorboardDir, tensorboardReporter } from './plugin';
export { tensorboardConfigSchema, type TensorboardConfig } from './config';

const pkg = require('../package.json') as { name: string; version: string };

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/reporter-tensorboard'); registry.resolve('reporter', 'tensorboard');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'TensorBoard event files for every training run (train.report_to: [tensorboard])',
  provides: [tensorboardReporter],
});
export default plugin;
