// createServer: the fastify app of `mmft serve`. Routes are OpenAI's (/v1/chat/completions,
// /v1/embeddings, /v1/models) plus /health and Prometheus /metrics; every error leaves in OpenAI's
// shape. Work goes through one bounded queue; each request has a deadline from its arrival; closing
// the app (SIGTERM/SIGINT in `mmft serve`) stops admitting, lets running and queued requests finish,
// then closes the engines (fastify's preClose/onClose hooks, fastify/fastify docs/Reference/Hooks.md).
// The routes themselves are in routes.ts; picking the served model and engine lifetimes in served-models.ts.
import Fastify, { type FastifyInstance } from 'fastify';
import type { OutputFilter } from '@mmft/core';
import { ApiError, toApiError } from './api-error';
import type { ServedModel } from './engine';
import { resolveLimits, type ServeLimits } from './limits';
import { createMetrics } from './metrics';
import { BoundedQueue } from './queue';
import { registerRoutes, type ServerState } from './routes';
import { checkNames, engineHolds } from './served-models';
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
  const models = [...options.models];
  const metrics = createMetrics(models);
  const queue = new BoundedQueue(limits.concurrency, limits.queueSize, (running, waiting) => {
    metrics.running.set(running);
    metrics.queueDepth.set(waiting);
  });
  // Requests per engine, so an engine a reload retired closes only when its last request ends.
  const engines = engineHolds();
  const state: ServerState = { models, draining: false, limits, filters: options.filters ?? [], metrics, queue, engines };
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

  registerRoutes(app, state, options.reload);

  if (options.ui) registerUi(app, options.uiDir ?? UI_DIR);

  app.addHook('preClose', async () => {
    state.draining = true;
    await queue.drain();
  });
  app.addHook('onClose', async () => {
    await Promise.all([...state.models.map((m) => m.engine.close()), ...[...engines.retired].map((e) => e.close())]);
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
