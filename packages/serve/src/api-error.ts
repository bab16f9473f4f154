// Errors in OpenAI's shape, `{ error: { message, type, param, code } }`, with the HTTP status and
// any headers (Retry-After) they go out with.
import type { FastifyError } from 'fastify';
import { MmftError } from '@mmft/core';

export type ApiErrorType = 'invalid_request_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'timeout_error';

/**
 * An error a route answers with.
 *
 * @example
 * throw new ApiError(400, 'messages[0].content[1].image_url.url: not base64', { param: 'messages', code: 'invalid_image' });
 */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    message: string,
    options: { type?: ApiErrorType; param?: string; code?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.type =
      options.type ??
      (status === 404 ? 'not_found_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const INPUT_CODES = new Set(['E_INPUT', 'E_UNSUPPORTED', 'E_CONFIG']);

/** Any error as the ApiError a client gets: input errors (MmftError E_INPUT...) are 400s, fastify's 4xx keep their status, the rest is 500. */
export function toApiError(error: unknown, bodyLimit?: number): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof MmftError && INPUT_CODES.has(error.code))
    return new ApiError(400, error.hint ? `${error.message} (${error.hint})` : error.message, { code: error.code.toLowerCase() });
  const e = error as Partial<FastifyError>;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError(413, `the request body is over the limit of ${bodyLimit} bytes (mmft serve --body-limit)`, {
      code: 'body_too_large',
    });
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new ApiError(415, 'send the body as JSON (content-type: application/json)', { code: 'unsupported_media_type' });
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return new ApiError(e.statusCode, `${e.statusCode === 400 ? 'malformed request: ' : ''}${e.message ?? 'bad request'}`, {
      code: (e.code ?? 'invalid_request').toLowerCase(),
    });
  return new ApiError(500, `internal error: ${error instanceof Error ? error.message : String(error)}`, { code: 'internal_error' });
}
