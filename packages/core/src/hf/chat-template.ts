// Chat templates (tokenizer_config.json `chat_template`) rendered with @huggingface/jinja, the Jinja
// engine transformers.js uses. The render context follows transformers' apply_chat_template
// (src/transformers/utils/chat_template_utils.py render_jinja_template, tokenization_utils_base.py):
// `messages`, `tools`, `documents`, `add_generation_prompt`, the tokenizer's special tokens by
// attribute name (bos_token, eos_token, …) and any extra template kwargs; `raise_exception` and
// `strftime_now` are globals, and blocks are trimmed (trim_blocks / lstrip_blocks) as both do.
// Template choice follows get_chat_template there: a named template, else "tool_use" when tools are
// given, else "default".
import type * as JinjaLib from '@huggingface/jinja' with { 'resolution-mode': 'import' };
import { MmftError } from '../errors';

// @huggingface/jinja ships an ESM-flavoured .d.ts for both builds (see tokenizers-lib.ts): types in
// import mode, the runtime through its "require" condition (dist/index.cjs).
const jinja: typeof JinjaLib = require('@huggingface/jinja');

/** One chat turn; `content` is text or a list of parts ({ type: 'text', text } / { type: 'image' }). */
export interface ChatMessage {
  readonly role: string;
  readonly content?: string | ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

/** Options of `applyChatTemplate`, named as transformers' keyword arguments in camelCase. */
export interface ChatTemplateOptions {
  /** Append the assistant header the template writes for `add_generation_prompt` (default false). */
  readonly addGenerationPrompt?: boolean;
  /** Tool (function) schemas, passed to the template as `tools`. */
  readonly tools?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** Retrieval documents, passed as `documents`. */
  readonly documents?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** A template name from tokenizer_config.json's list of templates, or a template's text. */
  readonly chatTemplate?: string;
  /** More variables for the template (transformers' **kwargs), e.g. { date_string }. */
  readonly templateKwargs?: Readonly<Record<string, unknown>>;
}

/** The templates a tokenizer carries: one unnamed, or several by name ("default", "tool_use", "rag"). */
export type ChatTemplates = Readonly<Record<string, string>>;

/**
 * tokenizer_config.json `chat_template` as a name → template table: a string becomes { default },
 * a list of { name, template } (transformers ≥ 4.34) keeps its names; anything else gives {}.
 */
export function chatTemplatesOf(value: unknown): Record<string, string> {
  if (typeof value === 'string') return { default: value };
  if (!Array.isArray(value)) return {};
  const named = value.filter(
    (t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string',
  );
  return Object.fromEntries(named.map((t) => [t.name, t.template]));
}

/** Which template to render (transformers' get_chat_template). */
export function selectChatTemplate(
  templates: ChatTemplates,
  options: Pick<ChatTemplateOptions, 'chatTemplate' | 'tools'>,
  source: string,
): string {
  const names = Object.keys(templates);
  if (options.chatTemplate !== undefined) return templates[options.chatTemplate] ?? options.chatTemplate;
  if (options.tools && templates.tool_use !== undefined) return templates.tool_use;
  if (templates.default !== undefined) return templates.default;
  if (names.length === 1) return templates[names[0]!]!;
  if (names.length === 0) {
    throw new MmftError('E_CHECKPOINT', `${source}: this tokenizer has no chat_template`, {
      hint: 'add "chat_template" to tokenizer_config.json (or a chat_template.jinja beside it), or pass one as options.chatTemplate',
    });
  }
  throw new MmftError('E_INPUT', `${source}: chat_template holds several templates (${names.join(', ')}) and none is "default"`, {
    hint: `name one with options.chatTemplate: ${names.map((n) => `'${n}'`).join(' | ')}`,
  });
}

/** A parsed template, reused across calls (parsing dominates the cost of rendering). */
const compiled = new Map<string, JinjaLib.Template>();

function compile(template: string, source: string): JinjaLib.Template {
  let parsed = compiled.get(template);
  if (!parsed) {
    try {
      parsed = new jinja.Template(template);
    } catch (cause) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${source}: chat_template is not a template @huggingface/jinja can parse: ${(cause as Error).message}`,
        {
          cause,
          hint: 'fix "chat_template" in tokenizer_config.json (it must be Jinja as transformers renders it)',
        },
      );
    }
    if (compiled.size > 64) compiled.clear();
    compiled.set(template, parsed);
  }
  return parsed;
}

/**
 * Renders `messages` through `template`. `specialTokens` are the tokenizer's special tokens by
 * attribute name ({ bos_token: '<s>', … }); `source` names the file in errors.
 *
 * @example
 * renderChatTemplate(LLAMA2_CHAT_TEMPLATE, [{ role: 'user', content: 'hi' }], { bos_token: '<s>', eos_token: '</s>' });
 * // '<s>[INST] hi [/INST]'
 */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  specialTokens: Readonly<Record<string, unknown>>,
  options: ChatTemplateOptions = {},
  source = 'tokenizer_config.json',
): string {
  const parsed = compile(template, source);
  try {
    return parsed.render({
      ...specialTokens,
      ...options.templateKwargs,
      messages,
      tools: options.tools ?? null,
      documents: options.documents ?? null,
      add_generation_prompt: options.addGenerationPrompt ?? false,
    });
  } catch (cause) {
    // raise_exception(...) is the template refusing this conversation (e.g. roles that do not alternate).
    throw new MmftError('E_INPUT', `${source}: chat_template refused the conversation: ${(cause as Error).message}`, {
      cause,
      hint: 'check the message roles and order against the template in tokenizer_config.json',
    });
  }
}
