// Prometheus metrics of one server on its own prom-client Registry (so two servers in one process,
// as in tests, do not collide): requests by route and status, latency, queue, generated tokens and
// the served model versions. Names follow Prometheus' conventions (_total, _seconds); histogram
// buckets are prom-client's defaults (siimon/prom-client lib/histogram.js).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServedModel } from './engine';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method'>;
  readonly queueDepth: Gauge;
  readonly running: Gauge;
  readonly generatedTokens: Counter<'model'>;
  readonly promptTokens: Counter<'model'>;
  readonly timeToFirstToken: Histogram<'model'>;
  /** Replaces the mmft_model_info series (after a reload). */
  setModels(models: readonly ServedModel[]): void;
}

/**
 * @example
 * const m = createMetrics(models); m.requests.inc({ route: '/v1/models', method: 'GET', status: '200' });
 */
export function createMetrics(models: readonly ServedModel[]): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mmft_' });
  const info = new Gauge({
    name: 'mmft_model_info',
    help: 'Served models: 1 per model with its version, family and kind',
    labelNames: ['model', 'version', 'family', 'kind'],
    registers: [registry],
  });
  const setModels = (served: readonly ServedModel[]): void => {
    info.reset();
    for (const m of served) info.set({ model: m.name, version: m.version, family: m.engine.family, kind: m.engine.kind }, 1);
  };
  setModels(models);
  return {
    registry,
    setModels,
    requests: new Counter({
      name: 'mmft_http_requests_total',
      help: 'HTTP requests answered, by route, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mmft_http_request_duration_seconds',
      help: 'Time from request to the last byte of the reply, by route',
      labelNames: ['route', 'method'],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'mmft_queue_depth', help: 'Requests waiting for an engine slot', registers: [registry] }),
    running: new Gauge({ name: 'mmft_requests_running', help: 'Requests holding an engine slot', registers: [registry] }),
    generatedTokens: new Counter({
      name: 'mmft_generated_tokens_total',
      help: 'Tokens generated, by model (rate() of it is tokens per second)',
      labelNames: ['model'],
      registers: [registry],
    }),
    promptTokens: new Counter({
      name: 'mmft_prompt_tokens_total',
      help: 'Prompt tokens read, by model',
      labelNames: ['model'],
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: 'mmft_time_to_first_token_seconds',
      help: 'Time from the engine slot to the first generated text, by model',
      labelNames: ['model'],
      registers: [registry],
    }),
  };
}
