// POST /v1/embeddings: OpenAI's request and response ({object: 'list', data: [{object: 'embedding',
// index, embedding}], model, usage}); an input that starts with `data:image/` is an image. OpenAI's
// clients ask for `encoding_format: 'base64'` (little-endian float32 bytes) by default; both are served.
import { ApiError } from './api-error';
import type { EmbeddingInput, ServedModel } from './engine';
import { decodeImageDataUrl, isImageDataUrl } from './images';
import type { ServeLimits } from './limits';

/** The validated inputs: texts and decoded images in order, and the wanted encoding. */
export async function parseEmbeddings(
  body: Record<string, unknown>,
  limits: ServeLimits,
): Promise<{ inputs: EmbeddingInput[]; base64: boolean }> {
  const raw = body.input;
  const items = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(items) || items.length === 0 || items.some((x) => typeof x !== 'string'))
    throw new ApiError(400, 'input: must be a string or a non-empty array of strings (texts, or image data URLs)', {
      param: 'input',
      code: 'invalid_value',
    });
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    throw new ApiError(400, `encoding_format: must be "float" or "base64", got ${JSON.stringify(format)}`, { param: 'encoding_format' });
  const inputs: EmbeddingInput[] = [];
  for (const [i, item] of (items as string[]).entries()) {
    if (isImageDataUrl(item)) inputs.push({ image: await decodeImageDataUrl(item, `input[${i}]`, limits) });
    else if (item === '')
      throw new ApiError(400, `input[${i}]: an empty string has no embedding`, { param: 'input', code: 'invalid_value' });
    else inputs.push({ text: item });
  }
  return { inputs, base64: format === 'base64' };
}

const base64Of = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

/** The response body for `vectors` of `inputs`. */
export function embeddingsResponse(
  served: ServedModel,
  inputs: readonly EmbeddingInput[],
  vectors: readonly Float32Array[],
  base64: boolean,
) {
  const tokens = inputs.reduce(
    (n, input) => n + ('text' in input && served.engine.countTokens ? served.engine.countTokens(input.text) : 0),
    0,
  );
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? base64Of(v) : Array.from(v) })),
    model: served.name,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
