// The TextTokenizer of a checkpoint folder: tokenizer.json run by tokenizers.js, with the batch
// padding / truncation of transformers' PreTrainedTokenizerBase.__call__
// (tokenization_utils_base.py): truncate the text to max_length minus the special tokens the
// post-processor adds, add them (bos … eos for CLIP), pad on `padding_side` with the pad token.
// Special tokens are found as transformers' from_pretrained finds them: tokenizer_config.json
// first, special_tokens_map.json for what it leaves unset, ids through the vocabulary and the
// added_tokens of tokenizer.json.
import type { SpecialTokenIds, TextTokenizer } from '../contracts/model';
import { MmftError } from '../errors';
import { tokenizersLib, type HfTokenizerInstance } from './tokenizers-lib';

/** Encoding options of the TextTokenizer contract. */
export type EncodeOptions = NonNullable<Parameters<TextTokenizer['encode']>[1]>;

/** Settings not in tokenizer.json: from tokenizer_config.json and the model config. */
export interface HfTokenizerOptions {
  /** Default max_length when encode() is given none (tokenizer_config model_max_length, else the model's positions). */
  modelMaxLength?: number;
  /** Where to read files from, for error messages. */
  source?: string;
  /** special_tokens_map.json, parsed: fills the special tokens tokenizer_config.json leaves unset. */
  specialTokensMap?: Record<string, unknown>;
  /** A chat template found outside tokenizer_config.json (chat_template.jinja); the config's wins. */
  chatTemplate?: string;
}

/** The four special tokens transformers names by role (SPECIAL_TOKENS_ATTRIBUTES). */
const ROLES = ['bos', 'eos', 'pad', 'unk'] as const;

/** A token in tokenizer_config.json is a string or an AddedToken object with `content`. */
const tokenText = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string'
      ? (value as { content: string }).content
      : undefined;

/**
 * tokenizer_config.json `chat_template`: a string, or (transformers ≥ 4.34) a list of
 * `{ name, template }` of which "default" is the one apply_chat_template uses without a name.
 */
function chatTemplateOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const named = value.filter(
    (t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string',
  );
  return (named.find((t) => t.name === 'default') ?? named[0])?.template;
}

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
  /** The special tokens by role, as strings (undefined where the files name none). */
  readonly specialTokens: Readonly<Partial<Record<(typeof ROLES)[number], string>>>;
  readonly specialTokenIds: SpecialTokenIds;
  readonly paddingSide: 'left' | 'right';
  /** tokenizer_config.json `chat_template` (Jinja), when the checkpoint has one. */
  readonly chatTemplate?: string;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown> = {},
    private readonly options: HfTokenizerOptions = {},
  ) {
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
      if (id === undefined)
        throw new MmftError('E_CHECKPOINT', `${source}: the post-processor adds "${token}", which is not in the vocabulary`);
      return id;
    };
    this.prefixIds = wrapped.slice(0, at).map(idOf);
    this.suffixIds = wrapped.slice(at + 1).map(idOf);
    // tokenizer_config.json wins where it sets a role (transformers keeps init kwargs over the
    // map), special_tokens_map.json fills the rest; an explicit null there means "none".
    const map = options.specialTokensMap ?? {};
    const roleToken = (role: (typeof ROLES)[number]) => {
      const key = `${role}_token`;
      if (key in tokenizerConfig) return tokenText(tokenizerConfig[key]);
      return tokenText(map[key]) ?? (role === 'unk' ? tokenText(model?.unk_token) : undefined);
    };
    this.specialTokens = Object.fromEntries(ROLES.map((role) => [role, roleToken(role)]).filter(([, t]) => t !== undefined));
    const ids: { -readonly [K in keyof SpecialTokenIds]: SpecialTokenIds[K] } = {};
    for (const role of ROLES) {
      const token = this.specialTokens[role];
      const id = token === undefined ? undefined : this.lib.token_to_id(token);
      if (id !== undefined) ids[role] = id;
    }
    this.specialTokenIds = ids;
    this.padTokenId = ids.pad;
    this.paddingSide = tokenizerConfig.padding_side === 'left' ? 'left' : 'right';
    this.padLeft = this.paddingSide === 'left';
    this.modelMaxLength = options.modelMaxLength;
    this.chatTemplate = chatTemplateOf(tokenizerConfig.chat_template) ?? options.chatTemplate;
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
      throw new MmftError(
        'E_INPUT',
        `maxLength ${maxLength} leaves no room: the tokenizer adds ${this.numSpecialTokens} special tokens to every text`,
      );
    }
    const rows = texts.map((text) => {
      let ids = this.lib.encode(text, { add_special_tokens: false }).ids;
      if (truncation && maxLength !== undefined) ids = ids.slice(0, maxLength - this.numSpecialTokens);
      return [...this.prefixIds, ...ids, ...this.suffixIds];
    });
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const target = padding === 'max_length' && maxLength !== undefined ? Math.max(maxLength, longest) : longest;
    if (rows.some((r) => r.length < target) && this.padTokenId === undefined) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${this.options.source ?? 'tokenizer'}: padding needs a pad_token, and neither tokenizer_config.json nor special_tokens_map.json names one in the vocabulary`,
        {
          hint: 'set "pad_token" in tokenizer_config.json (CLIP uses "<|endoftext|>")',
        },
      );
    }
    const pad = (row: number[], fill: number) => {
      const extra: number[] = new Array(target - row.length).fill(fill);
      return this.padLeft ? [...extra, ...row] : [...row, ...extra];
    };
    return {
      inputIds: rows.map((r) => pad(r, this.padTokenId ?? 0)),
      attentionMask: rows.map((r) =>
        pad(
          r.map(() => 1),
          0,
        ),
      ),
    };
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.lib.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }
}
