// The config of output filter "blocklist" (`mmft serve --filter blocklist:FILE[:redact]`): every
// field described, as recipe sections are (docs/conventions.md §7).
import { z } from 'zod';

export const blocklistConfigSchema = z.strictObject({
  file: z.string().min(1).describe('UTF-8 text file with one blocked term per line; blank lines and lines starting with # are skipped'),
  mode: z
    .enum(['refuse', 'redact'])
    .default('refuse')
    .describe('refuse: stop the reply at the first blocked term (finish_reason content_filter); redact: replace each term'),
  replacement: z.string().default('***').describe('what a redacted term becomes'),
});

export type BlocklistConfig = z.output<typeof blocklistConfigSchema>;
export type BlocklistConfigInput = z.input<typeof blocklistConfigSchema>;
