// Recipe section of the `caption` metric: which tokeniser prepares captions before scoring.
// Defaults reproduce pycocoevalcap (PTBTokenizer, then BLEU/ROUGE-L/CIDEr-D on its output).
import { z } from 'zod';
import { TOKENIZER_NAMES } from './tokenizers';

/**
 * Config of the caption metric.
 *
 * @example
 * captionConfigSchema.parse({ tokenizer: 'jieba' });
 */
export const captionConfigSchema = z
  .object({
    tokenizer: z
      .enum(TOKENIZER_NAMES, {
        error: (issue) =>
          `unknown tokenizer ${JSON.stringify(issue.input)}: use 'ptb' (English, as pycocoevalcap), 'char' or 'jieba' ` +
          "(Chinese by character or by word), or 'none' (text already tokenised)",
      })
      .default('ptb')
      .describe(
        "How captions are split into words: 'ptb' emulates pycocoevalcap's Stanford PTBTokenizer " +
          "(lowercase, punctuation split and removed; Chinese without spaces stays one word); 'char' makes every " +
          "Chinese/Japanese character a token; 'jieba' segments Chinese into words with jieba (@node-rs/jieba); " +
          "with 'char' and 'jieba' other text is tokenised as 'ptb' does and CJK punctuation is dropped; " +
          "'none' splits on spaces only (text already tokenised); 'chinese-char' is the earlier name of 'char'.",
      ),
    sigma: z
      .number()
      .positive()
      .default(6)
      .describe('Standard deviation of the Gaussian length penalty of CIDEr-D (pycocoevalcap uses 6).'),
  })
  .strict()
  .describe('COCO caption metrics: BLEU-1..4, ROUGE-L, CIDEr-D as pycocoevalcap computes them.');

export type CaptionConfig = z.infer<typeof captionConfigSchema>;
