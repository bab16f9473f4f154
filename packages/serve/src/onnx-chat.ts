// A chat request decoded on an ONNX export, streamed piece by piece: a causal LM one token per step
// through the KV cache by the exporter's greedyDecodeOnnx (packages/plugins/exporter-onnx/src/causal-lm/decode.ts),
// LLaVA / BLIP-2 through its generateVlmOnnx (src/vlm/decode.ts). Decoding settings are resolved by
// core's resolveGenerationOptions from generation_config.json and the request, and sampling uses core's
// logits processors and seeded random stream, so a request decodes the same ids as tfjs's generate()
// given the same logits.
import { logitsProcessors, RowTextStreamer, resolveGenerationOptions, SeededRandom, sampleIndex, softmax } from '@mmft/core/generation';
import { generateVlmOnnx, greedyDecodeOnnx } from '@mmft/exporter-onnx';
import type * as Ort from 'onnxruntime-node';
import type { ChatRequest } from './engine';
import { onnxChatInputs, type OnnxPromptSource } from './onnx-prompt';

/** What decoding a chat request reads from an open export. */
export interface OnnxChatSource extends OnnxPromptSource {
  readonly suffix: '' | '_bnb4';
  /** The causal LM's session; a vision-to-LLM export has none (generateVlmOnnx opens its graphs per request). */
  readonly session: Ort.InferenceSession | undefined;
}

/** The request's settings as core resolves them over generation_config.json. */
function settingsOf(source: OnnxChatSource, request: ChatRequest) {
  return resolveGenerationOptions(source.folder.generationConfig, {
    maxNewTokens: request.maxTokens,
    ...(request.temperature === undefined
      ? {}
      : request.temperature === 0
        ? { doSample: false }
        : { doSample: true, temperature: request.temperature }),
    ...(request.topP === undefined ? {} : { topP: request.topP }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
  });
}

/**
 * Streams the reply's text; usage goes to `request.onUsage` once the stream ends, however it ends.
 *
 * @example
 * for await (const piece of onnxChat(source, { messages, maxTokens: 20 }, signal)) process.stdout.write(piece);
 */
export async function* onnxChat(source: OnnxChatSource, request: ChatRequest, signal: AbortSignal): AsyncGenerator<string> {
  let promptTokens = 0;
  let completionTokens = 0;
  // Pieces decoded by the step callback wait here until the consumer takes them.
  const pieces: string[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  let stopped = false;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  try {
    const { ids, pixels } = await onnxChatInputs(source, request.messages);
    promptTokens = ids.length;
    const settings = settingsOf(source, request);
    const processors = logitsProcessors(settings, { maxLength: Number.MAX_SAFE_INTEGER, minLength: 0 });
    const random = settings.doSample ? new SeededRandom(settings.seed) : undefined;
    // Greedy stays the helpers' own argmax (float32 logits, as tfjs's); sampling goes through core's warpers.
    const pick =
      random || processors.length > 0
        ? (logits: Float32Array, _row: number, history: readonly number[]) => {
            const scores = Float64Array.from(logits);
            for (const p of processors) p(scores, history);
            if (random) return sampleIndex(softmax(scores), random);
            let best = 0;
            for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
            return best;
          }
        : undefined;
    const streamer = new RowTextStreamer(source.text());
    const eos = [...settings.eosTokenIds];
    const maxNewTokens = settings.maxNewTokens ?? request.maxTokens;
    let ended = false;
    const onStep = (tokens: readonly number[], step: number) => {
      if (signal.aborted || stopped) {
        stopped = true;
        return false;
      }
      const id = tokens[0]!;
      if (id >= 0) {
        completionTokens += 1;
        // The last token's piece carries the rest of the text with it, as core's generateStream
        // sends a row's final chunk (generation/generate.ts), so both engines split replies alike.
        ended = eos.includes(id) || step + 1 >= maxNewTokens;
        const piece = streamer.put(id) + (ended ? streamer.end() : '');
        if (piece !== '') pieces.push(piece);
        notify();
      }
      return true;
    };
    const options = {
      ...(pick ? { pick } : {}),
      onStep,
      ...(settings.padTokenId === undefined ? {} : { padTokenId: settings.padTokenId }),
    };
    const decoding = (
      pixels
        ? generateVlmOnnx(source.dir, pixels, [ids], maxNewTokens, { ...options, eosTokenId: eos, suffix: source.suffix })
        : greedyDecodeOnnx(source.session!, [ids], maxNewTokens, eos, options)
    ).then(
      () => {
        if (!stopped && !ended) {
          const rest = streamer.end();
          if (rest !== '') pieces.push(rest);
        }
        finished = true;
        notify();
      },
      (error: unknown) => {
        failure = error;
        finished = true;
        notify();
      },
    );
    for (;;) {
      while (pieces.length > 0) {
        if (signal.aborted) {
          stopped = true;
          break;
        }
        yield pieces.shift()!;
      }
      if (stopped || finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    // Abandoned (stop string, filter, client gone): the next step callback ends the decoding.
    stopped = true;
    await decoding;
    if (failure !== undefined) throw failure;
  } finally {
    stopped = true;
    request.onUsage?.({ promptTokens, completionTokens, finishReason: completionTokens >= request.maxTokens ? 'length' : 'stop' });
  }
}
