// Validation of a chat completions body (OpenAI's request, reference: vLLM's
// vllm/entrypoints/openai/chat_completion/protocol.py and LLaMA-Factory's api/protocol.py): every
// problem is a 400 naming the field, as OpenAI's `param`. Images are decoded here, once.
import { ApiError } from './api-error';
import type { ChatTurn } from './engine';
import { decodeImageDataUrl } from './images';
import type { ServeLimits } from './limits';

export interface ParsedChat {
  readonly model?: string;
  readonly messages: ChatTurn[];
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly stop: string[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

const bad = (param: string, message: string, code = 'invalid_value'): ApiError =>
  new ApiError(400, `${param}: ${message}`, { param, code });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalNumber(body: Record<string, unknown>, key: string, min: number, max: number, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw bad(key, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

async function turnOf(message: unknown, i: number, limits: ServeLimits): Promise<ChatTurn> {
  const where = `messages[${i}]`;
  if (!isObject(message)) throw bad(where, 'must be an object {role, content}');
  const role = message.role;
  if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer')
    throw bad(`${where}.role`, `must be system, user or assistant, got ${JSON.stringify(role)}`);
  const content = message.content;
  if (typeof content === 'string') return { role: role === 'developer' ? 'system' : role, text: content, images: [], imageAt: [] };
  if (!Array.isArray(content))
    throw bad(`${where}.content`, 'must be a string or an array of parts ({type: "text"} or {type: "image_url"})');
  let text = '';
  const images: Uint8Array[] = [];
  const imageAt: number[] = [];
  for (const [j, part] of content.entries()) {
    const at = `${where}.content[${j}]`;
    if (!isObject(part)) throw bad(at, 'must be an object with a type');
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw bad(`${at}.text`, 'must be a string');
      text += part.text;
    } else if (part.type === 'image_url') {
      const ref = part.image_url;
      const url = typeof ref === 'string' ? ref : isObject(ref) ? ref.url : undefined;
      if (typeof url !== 'string') throw bad(`${at}.image_url.url`, 'must be a data URL string');
      if (role !== 'user') throw bad(at, 'images go in user messages');
      images.push(await decodeImageDataUrl(url, `${at}.image_url.url`, limits));
      imageAt.push(text.length);
    } else {
      throw bad(`${at}.type`, `must be "text" or "image_url", got ${JSON.stringify(part.type)}`, 'unsupported_content');
    }
  }
  return { role: role === 'developer' ? 'system' : role, text, images, imageAt };
}

/**
 * The validated request; `maxTokens` defaults to the cap, and more than the cap is refused.
 *
 * @example
 * const parsed = await parseChat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, limits);
 */
export async function parseChat(body: unknown, limits: ServeLimits): Promise<ParsedChat> {
  if (!isObject(body)) throw new ApiError(400, 'the body must be a JSON object with "messages"', { code: 'invalid_body' });
  if (body.model !== undefined && typeof body.model !== 'string') throw bad('model', 'must be a string');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw bad('messages', 'must be a non-empty array of {role, content}');
  const messages: ChatTurn[] = [];
  for (const [i, m] of body.messages.entries()) messages.push(await turnOf(m, i, limits));
  if (body.n !== undefined && body.n !== null && body.n !== 1)
    throw bad('n', `only n = 1 is served, got ${JSON.stringify(body.n)}`, 'unsupported_value');
  const maxTokensKey =
    body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const asked = optionalNumber(body, maxTokensKey, 1, Number.MAX_SAFE_INTEGER, true);
  if (asked !== undefined && asked > limits.maxTokensCap)
    throw bad(
      maxTokensKey,
      `${asked} is over this server's cap of ${limits.maxTokensCap} new tokens (mmft serve --max-tokens-cap)`,
      'max_tokens_over_cap',
    );
  const stopRaw = body.stop;
  let stop: string[] = [];
  if (typeof stopRaw === 'string') stop = [stopRaw];
  else if (Array.isArray(stopRaw)) {
    if (stopRaw.length > 4 || stopRaw.some((s) => typeof s !== 'string' || s === ''))
      throw bad('stop', 'must be a string or up to 4 non-empty strings');
    stop = stopRaw as string[];
  } else if (stopRaw !== undefined && stopRaw !== null) throw bad('stop', 'must be a string or an array of strings');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad('stream', 'must be true or false');
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isObject(options)) throw bad('stream_options', 'must be an object {include_usage}');
  return {
    model: body.model as string | undefined,
    messages,
    maxTokens: asked ?? limits.maxTokensCap,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', Number.MIN_VALUE, 1),
    seed: optionalNumber(body, 'seed', 0, 2 ** 31 - 1, true),
    stop: stop.filter((s) => s !== ''),
    stream: body.stream === true,
    includeUsage: body.stream === true && isObject(options) && options.include_usage === true,
  };
}
