// createServer: the fastify app of `mmft serve`. Routes are OpenAI's (/v1/chat/completions,
// /v1/embeddings, /v1/models) plus /health and Prometheus /metrics; every error leaves in OpenAI's
// shape. Work goes through one bounded queue; each request has a deadline from its arrival; closing
// the app (SIGTERM/SIGINT in `mmft serve`) stops admitting, lets running and queued requests finish,
// then closes the engines (fastify's preClose/onClose hooks, fastify/fastify docs/Reference/Hooks.md).
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { MmftError, type OutputFilter } from '@mmft/core';
import { ApiError, toApiError } from './api-error';
import { chatCompletion, chatCompletionStream, type ChatContext } from './chat';
import { parseChat } from './chat-request';
import { embeddingsResponse, parseEmbeddings } from './embeddings';
import type { InferenceEngine, ServedModel } from './engine';
import { resolveLimits, type ServeLimits } from './limits';
import { createMetrics } from './metrics';
import { BoundedQueue } from './queue';
import { registerUi, UI_DIR } from './ui';

export interface ServeOptions {
  readonly models: readonly ServedModel[];
  readonly limits?: Partial<ServeLimits>;
  readonly filters?: readonly OutputFilter[];
  /** Serve the web demo (packages/serve/ui/) at / and /ui/<file>. */
  readonly ui?: boolean;
  /** Where the demo's files are (default: the package's ui/ folder). */
  readonly uiDir?: string;
  /** fastify's request log (pino) on stdout. */
  readonly logger?: boolean;
  /**
   * What `POST /admin/reload` (loopback only) serves next, given what is served now: `mmft serve`
   * re-reads its versioned folders and keeps the engines whose version did not change. Absent: no
   * such route. Engines no longer served close once their running requests end.
   */
  readonly reload?: (current: readonly ServedModel[]) => Promise<ServedModel[]>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function checkNames(models: readonly ServedModel[]): void {
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name))
      throw new MmftError('E_CONFIG', `serve: two models are named "${m.name}"`, { hint: 'give each --model a different name' });
    names.add(m.name);
  }
}

function pick(models: readonly ServedModel[], name: unknown, kind: 'chat' | 'embeddings'): ServedModel {
  const ofKind = models.filter((m) => m.engine.kind === kind);
  if (name === undefined) {
    if (ofKind.length === 1) return ofKind[0]!;
    throw new ApiError(
      400,
      `model: required; this server has ${ofKind.length} ${kind} models (${ofKind.map((m) => m.name).join(', ') || 'none'})`,
      {
        param: 'model',
        code: 'model_required',
      },
    );
  }
  const found = models.find((m) => m.name === name);
  if (!found)
    throw new ApiError(404, `model: "${String(name)}" is not served here; models: ${models.map((m) => m.name).join(', ')}`, {
      param: 'model',
      code: 'model_not_found',
    });
  if (found.engine.kind !== kind)
    throw new ApiError(
      400,
      `model: "${found.name}" is ${found.engine.kind === 'chat' ? 'a chat model' : 'an embeddings model'}; use ${found.engine.kind === 'chat' ? '/v1/chat/completions' : '/v1/embeddings'}`,
      {
        param: 'model',
        code: 'wrong_model_kind',
      },
    );
  return found;
}

/** How long a refused body is read and discarded before its 413 goes out regardless. */
const LINGER_MS = 10_000;

/**
 * The server, ready to `listen` (or `inject` in tests).
 *
 * @example
 * const app = await createServer({ models: [{ name: 'shapes', version: 'v1', engine }], ui: true });
 * await app.listen({ host: '127.0.0.1', port: 8000 });
 */
export async function createServer(options: ServeOptions): Promise<FastifyInstance> {
  const limits = resolveLimits(options.limits);
  checkNames(options.models);
  let models = [...options.models];
  // Requests per engine, so an engine a reload retired closes only when its last request ends.
  const inUse = new Map<InferenceEngine, number>();
  const retired = new Set<InferenceEngine>();
  const hold = (engine: InferenceEngine): (() => void) => {
    inUse.set(engine, (inUse.get(engine) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (inUse.get(engine) ?? 1) - 1;
      if (left > 0) inUse.set(engine, left);
      else {
        inUse.delete(engine);
        if (retired.delete(engine)) void engine.close();
      }
    };
  };
  const filters = options.filters ?? [];
  const metrics = createMetrics(models);
  const queue = new BoundedQueue(limits.concurrency, limits.queueSize, (running, waiting) => {
    metrics.running.set(running);
    metrics.queueDepth.set(waiting);
  });
  let draining = false;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: limits.bodyLimit, return503OnClosing: true });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(async (error, request, reply) => {
    const api = toApiError(error, limits.bodyLimit);
    if (api.status >= 500) request.log.error(error);
    // fastify refuses a body over the limit before reading it and asks for `Connection: close`
    // (lib/content-type-parser.js); Node then closes the socket while the client is still sending, the
    // unread bytes turn the close into a reset and the client loses the 413 (EPIPE instead). Reading
    // and discarding the rest of the body first (for at most LINGER_MS), as nginx's lingering close
    // does, and keeping the connection, lets every client read its answer.
    if (api.status === 413 && !request.raw.complete) {
      reply.removeHeader('connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, LINGER_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        request.raw.once('end', done).once('close', done).once('error', done).resume();
      });
    }
    return reply.code(api.status).headers(api.headers).send(api.body());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(new ApiError(404, `${request.method} ${request.url}: no such route`, { code: 'not_found' }).body()),
  );

  /** The request's deadline and disconnect as one signal; `done` clears the timer. */
  const deadline = (reply: FastifyReply): { signal: AbortSignal; done: () => void } => {
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
  };

  app.post('/v1/chat/completions', async (request, reply) => {
    const { signal, done } = deadline(reply);
    let release: (() => void) | undefined;
    let streaming = false;
    try {
      const parsed = await parseChat(request.body, limits);
      const served = pick(models, parsed.model, 'chat');
      if (!served.engine.acceptsImages && parsed.messages.some((m) => m.images.length > 0))
        throw new ApiError(400, `messages: "${served.name}" is a language model without a vision tower; send text parts only`, {
          param: 'messages',
          code: 'images_not_supported',
        });
      const slot = await queue.acquire(signal);
      const letGo = hold(served.engine);
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
    const { signal, done } = deadline(reply);
    try {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object with "input"');
      const served = pick(models, body.model, 'embeddings');
      const { inputs, base64 } = await parseEmbeddings(body, limits);
      const slot = await queue.acquire(signal);
      const letGo = hold(served.engine);
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
    data: models.map((m) => ({
      id: m.name,
      object: 'model',
      created: 0,
      owned_by: 'mmft',
      mmft: { family: m.engine.family, kind: m.engine.kind, version: m.version, accepts_images: m.engine.acceptsImages === true },
    })),
  });
  app.get('/v1/models', async () => modelList());

  if (options.reload) {
    const reload = options.reload;
    app.post('/admin/reload', async (request) => {
      if (!LOOPBACK.has(request.socket.remoteAddress ?? ''))
        throw new ApiError(403, 'POST /admin/reload is answered on loopback only', { code: 'forbidden', type: 'invalid_request_error' });
      const next = await reload(models);
      checkNames(next);
      const kept = new Set(next.map((m) => m.engine));
      for (const m of models) {
        if (kept.has(m.engine)) continue;
        if (inUse.has(m.engine)) retired.add(m.engine);
        else await m.engine.close();
      }
      models = next;
      metrics.setModels(models);
      return modelList();
    });
  }

  app.get('/health', async (_request, reply) =>
    reply.code(draining ? 503 : 200).send({ status: draining ? 'draining' : 'ok', running: queue.running, waiting: queue.depth }),
  );

  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  if (options.ui) registerUi(app, options.uiDir ?? UI_DIR);

  app.addHook('preClose', async () => {
    draining = true;
    await queue.drain();
  });
  app.addHook('onClose', async () => {
    await Promise.all([...models.map((m) => m.engine.close()), ...[...retired].map((e) => e.close())]);
  });
  return app;
}

/**
 * Closes the app on SIGTERM / SIGINT (in-flight requests finish first); a second signal exits at once.
 *
 * @example
 * installSignalHandlers(app, (code) => process.exit(code));
 */
export function installSignalHandlers(app: FastifyInstance, exit: (code: number) => void): () => void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return exit(130);
    closing = true;
    app.log.info(`${signal}: finishing in-flight requests, then closing`);
    app.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
