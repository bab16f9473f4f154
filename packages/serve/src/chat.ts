// POST /v1/chat/completions: one reply, or its server-sent events as vLLM and OpenAI stream them
// (vllm-project/vllm vllm/entrypoints/openai/chat_completion/serving.py): a first chunk with
// `delta: {role: 'assistant', content: ''}`, content chunks, a chunk with `delta: {}` and the
// finish_reason, with stream_options.include_usage a chunk with `choices: []` and the usage, then
// `data: [DONE]`. Pieces pass the stop sequences, then the output filters, before a client sees them.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { OutputFilter } from '@mmft/core';
import { toApiError } from './api-error';
import type { ChatUsage, FinishReason, ServedModel } from './engine';
import type { ParsedChat } from './chat-request';
import { filterChain } from './filters';
import type { ServerMetrics } from './metrics';
import { StopMatcher } from './stop';

/** What a chat run needs besides the request: the model, filters, metrics and the request's abort signal. */
export interface ChatContext {
  readonly served: ServedModel;
  readonly filters: readonly OutputFilter[];
  readonly metrics: ServerMetrics;
  readonly signal: AbortSignal;
}

interface ChatOutcome {
  readonly finishReason: FinishReason;
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Runs the engine, passing each safe piece of text to `emit`; rejects with the abort reason when aborted. */
async function runChat(parsed: ParsedChat, ctx: ChatContext, emit: (text: string) => void): Promise<ChatOutcome> {
  const engine = ctx.served.engine;
  let usage: ChatUsage | undefined;
  const stop = new StopMatcher(parsed.stop);
  const filter = filterChain(ctx.filters);
  let finish: FinishReason | undefined;
  const started = Date.now();
  let first = true;
  const pass = (piece: string, final: boolean): boolean => {
    const s = stop.push(piece, final);
    const f = filter(s.text, final || s.stopped);
    if (f.action === 'refuse') {
      finish = 'content_filter';
      return false;
    }
    if (f.text !== '') {
      if (first) ctx.metrics.timeToFirstToken.observe({ model: ctx.served.name }, (Date.now() - started) / 1000);
      first = false;
      emit(f.text);
    }
    if (s.stopped) finish = 'stop';
    return !s.stopped;
  };
  const request = {
    messages: parsed.messages,
    maxTokens: parsed.maxTokens,
    temperature: parsed.temperature,
    topP: parsed.topP,
    seed: parsed.seed,
    onUsage: (u: ChatUsage) => (usage = u),
  };
  let more = true;
  for await (const piece of engine.chat!(request, ctx.signal)) {
    if (ctx.signal.aborted) break;
    more = pass(piece, false);
    if (!more) break;
  }
  if (ctx.signal.aborted) throw ctx.signal.reason;
  if (more) pass('', true);
  const promptTokens = usage?.promptTokens ?? 0;
  const completionTokens = usage?.completionTokens ?? 0;
  ctx.metrics.generatedTokens.inc({ model: ctx.served.name }, completionTokens);
  ctx.metrics.promptTokens.inc({ model: ctx.served.name }, promptTokens);
  return {
    finishReason: finish ?? usage?.finishReason ?? 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

const header = (model: string) => ({ id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model });

/** The non-streamed reply: `chat.completion`. */
export async function chatCompletion(parsed: ParsedChat, ctx: ChatContext): Promise<Record<string, unknown>> {
  const head = header(ctx.served.name);
  let content = '';
  const outcome = await runChat(parsed, ctx, (t) => (content += t));
  return {
    id: head.id,
    object: 'chat.completion',
    created: head.created,
    model: head.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: outcome.finishReason }],
    usage: outcome.usage,
  };
}

/** One server-sent event carrying `data` as JSON. */
export const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/**
 * The streamed reply as SSE text. Errors after the first byte (a timeout) go out as an event
 * `{error: {...}}` before `[DONE]`, as vLLM streams them: the status line has already been sent.
 * `release` runs when the stream ends, is abandoned, or fails.
 */
export function chatCompletionStream(parsed: ParsedChat, ctx: ChatContext, release: () => void): Readable {
  const head = header(ctx.served.name);
  const chunk = (delta: Record<string, unknown>, finishReason: FinishReason | null) => ({
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(parsed.includeUsage ? { usage: null } : {}),
  });
  async function* events(): AsyncGenerator<string> {
    try {
      yield sse(chunk({ role: 'assistant', content: '' }, null));
      const pieces: string[] = [];
      let wake: (() => void) | undefined;
      let done = false;
      let failure: unknown;
      let outcome: ChatOutcome | undefined;
      // The engine runs on its own; pieces are queued and written as the consumer reads them.
      void runChat(parsed, ctx, (t) => {
        pieces.push(t);
        wake?.();
      })
        .then((o) => (outcome = o))
        .catch((e: unknown) => (failure = e))
        .finally(() => {
          done = true;
          wake?.();
        });
      for (;;) {
        if (pieces.length > 0) {
          // One event per piece, however fast the engine ran ahead: the framing does not depend on timing.
          for (const piece of pieces.splice(0)) yield sse(chunk({ content: piece }, null));
          continue;
        }
        if (done) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if (failure !== undefined) {
        yield sse(toApiError(failure).body());
      } else {
        yield sse(chunk({}, outcome!.finishReason));
        if (parsed.includeUsage)
          yield sse({
            id: head.id,
            object: 'chat.completion.chunk',
            created: head.created,
            model: head.model,
            choices: [],
            usage: outcome!.usage,
          });
      }
      yield 'data: [DONE]\n\n';
    } finally {
      release();
    }
  }
  return Readable.from(events(), { objectMode: false });
}
