// Loads @huggingface/tokenizers (tokenizers.js) from CommonJS. The package ships one ESM-flavoured
// .d.ts for both of its builds, which TypeScript refuses to `import` from a CommonJS file (TS1479);
// the types are taken in import mode and the runtime module through Node's "require" condition.
import type * as TokenizersLib from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

/** The tokenizers.js exports (Tokenizer, ...), loaded as dist/tokenizers.cjs. */
export const tokenizersLib: typeof TokenizersLib = require('@huggingface/tokenizers');

/** A tokenizers.js Tokenizer instance. */
export type HfTokenizerInstance = InstanceType<typeof TokenizersLib.Tokenizer>;
