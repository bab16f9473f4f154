// The TextTokenizer of a checkpoint folder: tokenizer.json run by tokenizers.js, with the batch
// padding / truncation of transformers' PreTrainedTokenizerBase.__call__
// (tokenization_utils_base.py): truncate the text to max_length minus the special tokens the
// post-processor adds, add them (bos … eos for CLIP), pad on `padding_side` with the pad token.
import { MmftError, type TextTokenizer } from '@mmft/core';
import { tokenizersLib, type HfTokenizerInstance } from './tokenizers-lib';

/** Encoding options of the TextTokenizer contract. */
export type EncodeOptions = NonNullable<Parameters<TextTokenizer['encode']>[1]>;

/** Settings not in tokenizer.json: from tokenizer_config.json and the model config. */
export interface HfTokenizerOptions {
  /** Default max_length when encode() is given none (tokenizer_config model_max_length, else the model's positions). */
  modelMaxLength?: number;
  /** Where to read files from, for error messages. */
  source?: string;
}

/** A token in tokenizer_config.json is a string or an AddedToken object with `content`. */
const tokenText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string' ? (value as { content: string }).content : undefined;

/**
 * TextTokenizer over an HF tokenizer.json. Defaults: pad to the longest text, truncate to
 * `modelMaxLength` (CLIP cannot embed longer sequences; HF's own defaults do neither).
 *
 * @example
 * const tok = new HfTokenizer(tokenizerJson, tokenizerConfig, { modelMaxLength: 77 });
 * const { inputIds, attentionMask } = tok.encode(['a red circle', 'a blue square'], { padding: 'max_length' });
 */
export class HfTokenizer implements TextTokenizer {
  private readonly lib: HfTokenizerInstance;
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];
  readonly padTokenId?: number;
  readonly padLeft: boolean;
  readonly modelMaxLength?: number;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown> = {}, private readonly options: HfTokenizerOptions = {}) {
    const source = options.source ?? 'tokenizer.json';
    const model = tokenizerJson.model as { unk_token?: unknown } | undefined;
    // tokenizers.js reads a WordLevel model's unk token from tokenizer_config; HF keeps it in the model.
    const config = { ...tokenizerConfig, unk_token: tokenText(tokenizerConfig.unk_token) ?? tokenText(model?.unk_token) };
    try {
      this.lib = new tokenizersLib.Tokenizer(tokenizerJson, config);
    } catch (cause) {
      throw new MmftError('E_CHECKPOINT', `${source}: tokenizers.js cannot build this tokenizer: ${(cause as Error).message}`, { cause });
    }
    // The post-processor wraps any single sequence the same way: find what it puts around a marker.
    const marker = '\u0000mmft-marker\u0000';
    const wrapped = this.lib.post_processor ? this.lib.post_processor([marker]).tokens : [marker];
    const at = wrapped.indexOf(marker);
    const idOf = (token: string) => {
      const id = this.lib.token_to_id(token);
      if (id === undefined) throw new MmftError('E_CHECKPOINT', `${source}: the post-processor adds "${token}", which is not in the vocabulary`);
      return id;
    };
    this.prefixIds = wrapped.slice(0, at).map(idOf);
    this.suffixIds = wrapped.slice(at + 1).map(idOf);
    const pad = tokenText(tokenizerConfig.pad_token);
    this.padTokenId = pad === undefined ? undefined : this.lib.token_to_id(pad);
    this.padLeft = tokenizerConfig.padding_side === 'left';
    this.modelMaxLength = options.modelMaxLength;
  }

  /** Number of special tokens added around one text (2 for CLIP). */
  get numSpecialTokens(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  get vocabSize(): number {
    return this.lib.get_vocab(true).size;
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  encode(texts: readonly string[], options: EncodeOptions = {}): { inputIds: number[][]; attentionMask: number[][] } {
    const maxLength = options.maxLength ?? this.modelMaxLength;
    const truncation = options.truncation ?? true;
    const padding = options.padding ?? 'longest';
    if (truncation && maxLength !== undefined && maxLength < this.numSpecialTokens) {
      throw new MmftError('E_INPUT', `maxLength ${maxLength} leaves no room: the tokenizer adds ${this.numSpecialTokens} special tokens to every text`);
    }
    const rows = texts.map((text) => {
      let ids = this.lib.encode(text, { add_special_tokens: false }).ids;
      if (truncation && maxLength !== undefined) ids = ids.slice(0, maxLength - this.numSpecialTokens);
      return [...this.prefixIds, ...ids, ...this.suffixIds];
    });
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const target = padding === 'max_length' && maxLength !== undefined ? Math.max(maxLength, longest) : longest;
    if (rows.some((r) => r.length < target) && this.padTokenId === undefined) {
      throw new MmftError('E_CHECKPOINT', `${this.options.source ?? 'tokenizer'}: padding needs a pad_token, and tokenizer_config.json names none (or one outside the vocabulary)`, {
        hint: 'set "pad_token" in tokenizer_config.json (CLIP uses "<|endoftext|>")',
      });
    }
    const pad = (row: number[], fill: number) => {
      const extra: number[] = new Array(target - row.length).fill(fill);
      return this.padLeft ? [...extra, ...row] : [...row, ...extra];
    };
    return {
      inputIds: rows.map((r) => pad(r, this.padTokenId ?? 0)),
      attentionMask: rows.map((r) => pad(r.map(() => 1), 0)),
    };
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.lib.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }
}
