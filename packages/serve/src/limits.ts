// The server's limits and their defaults (docs/serving.md, "Limits"). Fastify's own bodyLimit is
// 1 MiB (fastify/fastify docs/Reference/Server.md, `bodyLimit`); a base64 image makes chat bodies
// larger, so the default here is 16 MiB.
import { MmftError } from '@mmft/core';

export interface ServeLimits {
  /** Largest request body in bytes (413 beyond). */
  readonly bodyLimit: number;
  /** Largest decoded image in bytes (413 beyond). */
  readonly maxImageBytes: number;
  /** Most pixels (width × height) an image may have (400 beyond), checked before decoding. */
  readonly maxImagePixels: number;
  /** Requests that may wait for a free slot (429 with Retry-After beyond). */
  readonly queueSize: number;
  /** Requests the engine runs at once (tfjs decodes on the event loop: 1 keeps latency predictable). */
  readonly concurrency: number;
  /** Milliseconds from arrival to the last byte, queueing included (504 beyond, or an error event once streaming). */
  readonly requestTimeoutMs: number;
  /** Most new tokens a request may ask for; also the default when it asks for none. */
  readonly maxTokensCap: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  bodyLimit: 16 * 1024 * 1024,
  maxImageBytes: 8 * 1024 * 1024,
  maxImagePixels: 4096 * 4096,
  queueSize: 16,
  concurrency: 1,
  requestTimeoutMs: 60_000,
  maxTokensCap: 256,
};

/** The defaults with `given` over them; each must be a positive integer. */
export function resolveLimits(given: Partial<ServeLimits> = {}): ServeLimits {
  const limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as ServeLimits;
  for (const [key, value] of Object.entries(limits)) {
    const min = key === 'queueSize' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new MmftError('E_CONFIG', `serve limits: ${key} must be a whole number ≥ ${min}, got ${String(value)}`, {
        hint: `leave it out for the default (${DEFAULT_LIMITS[key as keyof ServeLimits]})`,
      });
    }
  }
  return limits;
}
