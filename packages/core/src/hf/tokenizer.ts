// The TextTokenizer of a checkpoint folder: tokenizer.json run by tokenizers.js, with the batch
// padding / truncation of transformers' PreTrainedTokenizerBase.__call__
// (tokenization_utils_base.py): truncate the text to max_length minus the special tokens the
// post-processor adds, add them (bos … eos for CLIP, bos for Llama and OPT), pad on `padding_side`
// with the pad token. Special tokens are found as transformers' from_pretrained finds them:
// tokenizer_config.json first, special_tokens_map.json for what it leaves unset, ids through the
// vocabulary and the added_tokens of tokenizer.json. `add_bos_token` / `add_eos_token` in
// tokenizer_config.json rewrite the post-processor as LlamaTokenizerFast.update_post_processor
// does (src/transformers/models/llama/tokenization_llama_fast.py; transformers v5 does it for every
// fast tokenizer whose config sets either flag, tokenization_utils_tokenizers.py).
import type { SpecialTokenIds, TextTokenizer } from '../contracts/model';
import { MmftError } from '../errors';
import { chatTemplatesOf, renderChatTemplate, selectChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template';
import { tokenizersLib, type HfTokenizerInstance } from './tokenizers-lib';

/** Encoding options of the TextTokenizer contract, plus transformers' `add_special_tokens` (default true). */
export type EncodeOptions = NonNullable<Parameters<TextTokenizer['encode']>[1]> & {
  /** false: no bos/eos around the texts (a chat template's output already has them). */
  addSpecialTokens?: boolean;
  /** Overrides tokenizer_config.json padding_side for this call (transformers' `padding_side` argument). */
  paddingSide?: 'left' | 'right';
};

/** Decoding options (transformers' decode keyword arguments in camelCase). */
export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Default: tokenizer_config.json clean_up_tokenization_spaces (tokenizers.js reads it; true when absent). */
  cleanUpTokenizationSpaces?: boolean;
}

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

/** transformers' SPECIAL_TOKENS_ATTRIBUTES beyond the four roles: given to chat templates too. */
const TEMPLATE_TOKENS = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'] as const;

/** tokenizer_class values whose fast tokenizer rebuilds the post-processor with add_bos_token=true by default. */
const BOS_BY_DEFAULT = /^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Hugging Face's ByteFallback decoder (huggingface/tokenizers tokenizers/src/decoders/byte_fallback.rs):
 * a run of <0xNN> pieces becomes its UTF-8 text, or one U+FFFD per piece when the run is not valid
 * UTF-8. tokenizers.js decodes the run leniently (one U+FFFD per broken sequence), which differs for
 * cut characters, e.g. the pieces of a streamed token that ends mid-character.
 */
function byteFallbackChain(tokens: string[]): string[] {
  const out: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    try {
      out.push(strictUtf8.decode(Uint8Array.from(run)));
    } catch {
      out.push('\ufffd'.repeat(run.length));
    }
    run = [];
  };
  for (const token of tokens) {
    const byte = /^<0x[0-9A-Fa-f]{2}>$/.test(token) ? parseInt(token.slice(3, 5), 16) : undefined;
    if (byte !== undefined) run.push(byte);
    else {
      flush();
      out.push(token);
    }
  }
  flush();
  return out;
}

// Exported by tokenizers.js at run time; its .d.ts re-exports cannot be resolved from CommonJS (tokenizers-lib.ts).
const ByteFallbackDecoder = (tokenizersLib as unknown as { ByteFallbackDecoder: abstract new (...args: never[]) => object })
  .ByteFallbackDecoder;

/** Puts byteFallbackChain in place of every tokenizers.js ByteFallback decoder in the chain. */
function useHfByteFallback(decoder: unknown): void {
  if (decoder instanceof ByteFallbackDecoder) (decoder as { decode_chain: typeof byteFallbackChain }).decode_chain = byteFallbackChain;
  const children = (decoder as { decoders?: unknown } | null)?.decoders;
  if (Array.isArray(children)) children.forEach(useHfByteFallback);
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
  /** Special tokens by attribute name (bos_token, …, additional_special_tokens), the chat template's context. */
  private readonly templateTokens: Readonly<Record<string, unknown>>;
  /** Whether encode() puts bos before / eos after every text (add_bos_token / add_eos_token in effect). */
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  readonly padTokenId?: number;
  readonly padLeft: boolean;
  readonly modelMaxLength?: number;
  /** The special tokens by role, as strings (undefined where the files name none). */
  readonly specialTokens: Readonly<Partial<Record<(typeof ROLES)[number], string>>>;
  readonly specialTokenIds: SpecialTokenIds;
  readonly paddingSide: 'left' | 'right';
  /** tokenizer_config.json `chat_template` (Jinja; the "default" one of a named list), when the checkpoint has one. */
  readonly chatTemplate?: string;
  /** All chat templates by name (a single unnamed template is "default"). */
  readonly chatTemplates: Readonly<Record<string, string>>;

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
    useHfByteFallback(this.lib.decoder);
    // tokenizer_config.json wins where it sets a role (transformers keeps init kwargs over the
    // map), special_tokens_map.json fills the rest; an explicit null there means "none".
    const map = options.specialTokensMap ?? {};
    const tokenOf = (role: (typeof TEMPLATE_TOKENS)[number]) => {
      const key = `${role}_token`;
      if (key in tokenizerConfig) return tokenText(tokenizerConfig[key]);
      return tokenText(map[key]) ?? (role === 'unk' ? tokenText(model?.unk_token) : undefined);
    };
    this.specialTokens = Object.fromEntries(ROLES.map((role) => [role, tokenOf(role)]).filter(([, t]) => t !== undefined));
    const ids: { -readonly [K in keyof SpecialTokenIds]: SpecialTokenIds[K] } = {};
    for (const role of ROLES) {
      const token = this.specialTokens[role];
      const id = token === undefined ? undefined : this.lib.token_to_id(token);
      if (id !== undefined) ids[role] = id;
    }
    this.specialTokenIds = ids;
    this.padTokenId = ids.pad;
    // Chat templates see every special token by attribute name, as transformers' special_tokens_map.
    const additional = tokenizerConfig.additional_special_tokens ?? map.additional_special_tokens;
    this.templateTokens = {
      ...Object.fromEntries(TEMPLATE_TOKENS.map((role) => [`${role}_token`, tokenOf(role)]).filter(([, t]) => t !== undefined)),
      ...(Array.isArray(additional) ? { additional_special_tokens: additional.map(tokenText).filter((t) => t !== undefined) } : {}),
    };
    [this.prefixIds, this.suffixIds] = this.specialTokensAround(tokenizerConfig, source);
    this.addBosToken = this.prefixIds.length > 0 && this.prefixIds[0] === ids.bos;
    this.addEosToken = this.suffixIds.length > 0 && this.suffixIds[this.suffixIds.length - 1] === ids.eos;
    this.paddingSide = tokenizerConfig.padding_side === 'left' ? 'left' : 'right';
    this.padLeft = this.paddingSide === 'left';
    this.modelMaxLength = options.modelMaxLength;
    const templates = chatTemplatesOf(tokenizerConfig.chat_template);
    // A chat_template.jinja file is read only when tokenizer_config.json has none (transformers ≥ 4.50).
    this.chatTemplates = Object.keys(templates).length > 0 ? templates : options.chatTemplate ? { default: options.chatTemplate } : {};
    this.chatTemplate = this.chatTemplates.default ?? Object.values(this.chatTemplates)[0];
  }

  /**
   * The ids put before and after every text. With add_bos_token / add_eos_token in tokenizer_config.json
   * (or a Llama-class tokenizer, whose defaults are true / false) they are bos / eos as
   * update_post_processor builds them; otherwise whatever tokenizer.json's post-processor adds.
   */
  private specialTokensAround(tokenizerConfig: Record<string, unknown>, source: string): [number[], number[]] {
    const cls = typeof tokenizerConfig.tokenizer_class === 'string' ? tokenizerConfig.tokenizer_class : '';
    const explicit = typeof tokenizerConfig.add_bos_token === 'boolean' || typeof tokenizerConfig.add_eos_token === 'boolean';
    if (explicit || BOS_BY_DEFAULT.test(cls)) {
      const flag = (role: 'bos' | 'eos', fallback: boolean) => {
        const value = tokenizerConfig[`add_${role}_token`];
        if (!(typeof value === 'boolean' ? value : fallback)) return [];
        const id = this.specialTokenIds[role];
        if (id === undefined) {
          throw new MmftError(
            'E_CHECKPOINT',
            `${this.configSource()} sets add_${role}_token but names no ${role}_token in the vocabulary`,
            { hint: `set "${role}_token" in tokenizer_config.json, or "add_${role}_token": false` },
          );
        }
        return [id];
      };
      return [flag('bos', BOS_BY_DEFAULT.test(cls)), flag('eos', false)];
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
    return [wrapped.slice(0, at).map(idOf), wrapped.slice(at + 1).map(idOf)];
  }

  /** Number of special tokens added around one text (2 for CLIP, 1 for Llama and OPT, 0 for GPT-2). */
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
    const withSpecial = options.addSpecialTokens ?? true;
    const [prefix, suffix] = withSpecial ? [this.prefixIds, this.suffixIds] : [[], []];
    const added = prefix.length + suffix.length;
    if (truncation && maxLength !== undefined && maxLength < added) {
      throw new MmftError('E_INPUT', `maxLength ${maxLength} leaves no room: the tokenizer adds ${added} special tokens to every text`);
    }
    const rows = texts.map((text) => {
      let ids = this.lib.encode(text, { add_special_tokens: false }).ids;
      if (truncation && maxLength !== undefined) ids = ids.slice(0, maxLength - added);
      return [...prefix, ...ids, ...suffix];
    });
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const target = padding === 'max_length' && maxLength !== undefined ? Math.max(maxLength, longest) : longest;
    if (rows.some((r) => r.length < target) && this.padTokenId === undefined) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${this.options.source ?? 'tokenizer'}: padding needs a pad_token, and neither tokenizer_config.json nor special_tokens_map.json names one in the vocabulary`,
        {
          hint: 'set "pad_token" in tokenizer_config.json (CLIP and GPT-2 fine-tunes use the eos token, Llama fine-tunes "<unk>"), or encode one text at a time',
        },
      );
    }
    const left = (options.paddingSide ?? this.paddingSide) === 'left';
    const pad = (row: number[], fill: number) => {
      const extra: number[] = new Array(target - row.length).fill(fill);
      return left ? [...extra, ...row] : [...row, ...extra];
    };
    return {
      inputIds: rows.map((r) => pad(r, this.padTokenId ?? 0)),
      attentionMask: rows.map((r) => pad(new Array<number>(r.length).fill(1), 0)),
    };
  }

  /**
   * Text of `ids`. Byte pieces (Llama's <0xNN>, GPT-2's byte characters) are joined into UTF-8 first;
   * bytes that do not complete a character decode to U+FFFD as in transformers (one per byte piece for
   * byte fallback, one per broken sequence for byte-level BPE).
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.lib.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      ...(options.cleanUpTokenizationSpaces !== undefined ? { clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces } : {}),
    });
  }

  /** decode() of every row (transformers' batch_decode). */
  batchDecode(rows: ReadonlyArray<readonly number[]>, options: DecodeOptions = {}): string[] {
    return rows.map((ids) => this.decode(ids, options));
  }

  /**
   * Renders a conversation with the checkpoint's chat template (transformers' apply_chat_template).
   * Returns the text by default; with `tokenize: true` its ids, encoded without adding special tokens
   * (the template writes bos itself), unpadded and untruncated as transformers does.
   *
   * @example
   * const prompt = tokenizer.applyChatTemplate([{ role: 'user', content: 'Which shape is red?' }], { addGenerationPrompt: true });
   * const ids = tokenizer.applyChatTemplate(messages, { tokenize: true });
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions & { tokenize: true }): number[];
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions & { tokenize?: false }): string;
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions & { tokenize?: boolean } = {}): string | number[] {
    const source = this.configSource();
    const template = selectChatTemplate(this.chatTemplates, options, source);
    const text = renderChatTemplate(template, messages, this.templateTokens, options, source);
    if (!options.tokenize) return text;
    return this.encode([text], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
  }

  /** tokenizer_config.json beside tokenizer.json (where the chat template lives), for error messages. */
  private configSource(): string {
    const source = this.options.source;
    return source?.endsWith('tokenizer.json')
      ? `${source.slice(0, -'tokenizer.json'.length)}tokenizer_config.json`
      : 'tokenizer_config.json';
  }
}
