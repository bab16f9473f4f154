// Errors in OpenAI's shape, `{ error: { message, type, param, code } }`, with the HTTP status and
// any headers (Retry-After) they go out with.

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
    this.type = options.type ?? (status === 404 ? 'not_found_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
