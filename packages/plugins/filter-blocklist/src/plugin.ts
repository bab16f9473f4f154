// The `blocklist` output-filter provider: config schema and factory.
import { parseConfig, type OutputFilterProvider } from '@mmft/core';
import { BlocklistFilter } from './blocklist';
import { blocklistConfigSchema, type BlocklistConfig, type BlocklistConfigInput } from './config';

/**
 * Provider of output filter `blocklist`.
 *
 * @example
 * const filter = blocklistFilter.create(blocklistFilter.configSchema.parse({ file: 'blocked.txt', mode: 'redact' }));
 */
export const blocklistFilter: OutputFilterProvider<BlocklistConfig, BlocklistConfigInput> = {
  kind: 'filter',
  id: 'blocklist',
  description:
    'refuse or redact replies containing terms from a file (English words case-insensitively, Chinese as substrings), streamed too',
  configSchema: blocklistConfigSchema,
  create: (config) => BlocklistFilter.fromConfig(parseConfig(blocklistFilter, config)),
};
