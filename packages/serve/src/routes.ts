// The routes of `mmft serve` (server.ts builds the app around them): OpenAI's /v1/chat/completions,
// /v1/embeddings and /v1/models, the loopback-only /admin/reload, /health and Prometheus /metrics.
// Chat and embeddings requests take a slot of the bounded queue and hold their engine while they run.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OutputFilter } from '@mmft/core';
import { ApiError } from './api-error';
import { chatCompletion, chatCompletionStream, type ChatContext } from './chat';
import { parseChat } from './chat-request';
import { embeddingsResponse, parseEmbeddings } from './embeddings';
import type { ServedModel } from './engine';
import type { ServeLimits } from './limits';
import type { ServerMetrics } from './metrics';
import type { BoundedQueue } from './queue';
import { checkNames, pick, type EngineHolds } from './served-models';

/** What the routes share with the app; `models` changes on reload, `draining` once the app closes. */
export interface ServerState {
  models: ServedModel[];
  draining: boolean;
  readonly limits: ServeLimits;
  readonly filters: readonly OutputFilter[];
  readonly metrics: ServerMetrics;
  readonly queue: BoundedQueue;
  readonly engines: EngineHolds;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The request's deadline and disconnect as one signal; `done` clears the timer. */
function deadline(reply: FastifyReply, limits: ServeLimits): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new ApiError(504, `the request took over ${limits.requestTimeoutMs} ms (mmft serve --timeout-ms)`, {
          code: 'timeout',
          type: 'timeout_error',
        }),
      ),
    limits.requestTimeoutMs,
  );
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new ApiError(499, 'the client closed the connection', { code: 'client_closed' }));
  });
  return { signal: controller.signal, done: () => clearTimeout(timer) };
}

/**
 * Registers every route on `app`; /admin/reload only when `reload` is given (ServeOptions.reload).
 *
 * @example
 * registerRoutes(app, state, options.reload);
 */
export function registerRoutes(
  app: FastifyInstance,
  state: ServerState,
  reload?: (current: readonly ServedModel[]) => Promise<ServedModel[]>,
): void {
  const { limits, filters, metrics, queue, engines } = state;

  app.post('/v1/chat/completions', async (request, reply) => {
    const { signal, done } = deadline(reply, limits);
    let release: (() => void) | undefined;
    let streaming = false;
    try {
      const parsed = await parseChat(request.body, limits);
      const served = pick(state.models, parsed.model, 'chat');
      if (!served.engine.acceptsImages && parsed.messages.some((m) => m.images.length > 0))
        throw new ApiError(400, `messages: "${served.name}" is a language model without a vision tower; send text parts only`, {
          param: 'messages',
          code: 'images_not_supported',
        });
      const slot = await queue.acquire(signal);
      const letGo = engines.hold(served.engine);
      release = () => {
        letGo();
        slot();
      };
      const ctx: ChatContext = { served, filters, metrics, signal };
      if (!parsed.stream) return await chatCompletion(parsed, ctx);
      // The stream frees the slot when it ends; the response's close covers a stream never read.
      const free = release;
      const finish = (): void => {
        free();
        done();
      };
      reply.raw.once('close', finish);
      streaming = true;
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(chatCompletionStream(parsed, ctx, finish));
    } finally {
      if (!streaming) {
        release?.();
        done();
      }
    }
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const { signal, done } = deadline(reply, limits);
    try {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object with "input"');
      const served = pick(state.models, body.model, 'embeddings');
      const { inputs, base64 } = await parseEmbeddings(body, limits);
      const slot = await queue.acquire(signal);
      const letGo = engines.hold(served.engine);
      try {
        const vectors = await Promise.race([
          served.engine.embed!(inputs),
          new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
        ]);
        return embeddingsResponse(served, inputs, vectors, base64);
      } finally {
        letGo();
        slot();
      }
    } finally {
      done();
    }
  });

  const modelList = () => ({
    object: 'list',
    data: state.models.map((m) => ({
      id: m.name,
      object: 'model',
      created: 0,
      owned_by: 'mmft',
      mmft: { family: m.engine.family, kind: m.engine.kind, version: m.version, accepts_images: m.engine.acceptsImages === true },
    })),
  });
  app.get('/v1/models', async () => modelList());

  if (reload) {
    app.post('/admin/reload', async (request) => {
      if (!LOOPBACK.has(request.socket.remoteAddress ?? ''))
        throw new ApiError(403, 'POST /admin/reload is answered on loopback only', { code: 'forbidden', type: 'invalid_request_error' });
      const next = await reload(state.models);
      checkNames(next);
      const kept = new Set(next.map((m) => m.engine));
      for (const m of state.models) {
        if (kept.has(m.engine)) continue;
        if (engines.inUse.has(m.engine)) engines.retired.add(m.engine);
        else await m.engine.close();
      }
      state.models = next;
      metrics.setModels(state.models);
      return modelList();
    });
  }

  app.get('/health', async (_request, reply) =>
    reply
      .code(state.draining ? 503 : 200)
      .send({ status: state.draining ? 'draining' : 'ok', running: queue.running, waiting: queue.depth }),
  );

  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
