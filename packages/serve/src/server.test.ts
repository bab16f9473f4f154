import { afterEach, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { MmftError, type OutputFilter } from '@mmft/core';
import { tinyCausalLm } from '@mmft/core/testing';
import type { FastifyInstance } from 'fastify';
import { createServer, TfjsEngine, type ChatRequest, type InferenceEngine, type ServeOptions } from './index';

/** A chat engine that yields fixed pieces (after `gate` resolves, when given) and reports usage. */
function piecesEngine(pieces: readonly string[], gate?: Promise<void>, log: string[] = []): InferenceEngine {
  return {
    kind: 'chat',
    family: 'language-model',
    async *chat(request: ChatRequest, signal: AbortSignal) {
      log.push(`chat:${request.maxTokens}`);
      if (gate) await gate;
      let n = 0;
      try {
        for (const p of pieces) {
          if (signal.aborted) return;
          n += 1;
          yield p;
        }
      } finally {
        request.onUsage?.({ promptTokens: 4, completionTokens: n, finishReason: 'stop' });
      }
    },
    async close() {
      log.push('close');
    },
  };
}

/** An engine that never answers until aborted. */
const stuckEngine: InferenceEngine = {
  kind: 'chat',
  family: 'language-model',
  async *chat(_request: ChatRequest, signal: AbortSignal) {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    yield '';
  },
  async close() {},
};

const embeddingsEngine: InferenceEngine = {
  kind: 'embeddings',
  family: 'dual-encoder',
  async embed(inputs) {
    return inputs.map((input) => ('text' in input ? new Float32Array([0.6, 0.8]) : new Float32Array([1, 0])));
  },
  countTokens: (text) => text.split(' ').length,
  async close() {},
};

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});
async function serve(options: ServeOptions): Promise<FastifyInstance> {
  const app = await createServer(options);
  apps.push(app);
  return app;
}
const chatBody = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const errorOf = (body: string) =>
  (JSON.parse(body) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;

async function png(width: number, height: number): Promise<string> {
  const bytes = await sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

describe('routes', () => {
  test('GET /v1/models, /health and unknown routes (OpenAI error shape)', async () => {
    const app = await serve({
      models: [
        { name: 'm', version: 'v2', engine: piecesEngine(['x']) },
        { name: 'e', version: 'v1', engine: embeddingsEngine },
      ],
    });
    const models = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json()).toEqual({
      object: 'list',
      data: [
        {
          id: 'm',
          object: 'model',
          created: 0,
          owned_by: 'mmft',
          mmft: { family: 'language-model', kind: 'chat', version: 'v2', accepts_images: false },
        },
        {
          id: 'e',
          object: 'model',
          created: 0,
          owned_by: 'mmft',
          mmft: { family: 'dual-encoder', kind: 'embeddings', version: 'v1', accepts_images: false },
        },
      ],
    });
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', running: 0, waiting: 0 });
    const missing = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing.body)).toEqual({
      message: 'GET /v1/nothing: no such route',
      type: 'not_found_error',
      param: null,
      code: 'not_found',
    });
  });

  test('a non-streamed chat completion: content, finish_reason and usage', async () => {
    const app = await serve({ models: [{ name: 'm', version: 'v1', engine: piecesEngine(['Hel', 'lo']) }] });
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    });
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
  });

  test('stop sequences end the reply before them, also when split across pieces', async () => {
    const app = await serve({ models: [{ name: 'm', version: 'v1', engine: piecesEngine(['one two', ' EN', 'D three']) }] });
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ stop: ['END'] }) });
    expect(r.json().choices[0]).toMatchObject({ message: { content: 'one two ' }, finish_reason: 'stop' });
    const s = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ stop: 'END', stream: true }) });
    const contents = s.body
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '');
    expect(contents.join('')).toBe('one two ');
  });

  test('a streaming output filter sees pieces in order; a refusal ends the reply with content_filter', async () => {
    // Refuses once "forbidden" is seen anywhere, holding back 8 characters (a term of 9).
    const held: OutputFilter = {
      name: 'test',
      check: (t) => (t.includes('forbidden') ? { action: 'refuse', reason: 'no' } : { action: 'allow' }),
      stream() {
        let pending = '';
        return (piece, final) => {
          pending += piece;
          if (pending.includes('forbidden')) return { action: 'refuse', reason: 'no' };
          const cut = final ? pending.length : Math.max(0, pending.length - 8);
          const text = pending.slice(0, cut);
          pending = pending.slice(cut);
          return { action: 'emit', text };
        };
      },
    };
    const app = await serve({
      models: [{ name: 'm', version: 'v1', engine: piecesEngine(['a safe start, then forb', 'idden words']) }],
      filters: [held],
    });
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(r.json().choices[0]).toMatchObject({ message: { content: 'a safe start, t' }, finish_reason: 'content_filter' });
    const s = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ stream: true }) });
    expect(s.body).not.toContain('forb');
    expect(s.body).toContain('"finish_reason":"content_filter"');
    expect(s.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('limits and errors', () => {
  test('malformed JSON, a body over bodyLimit, bad fields and unknown models answer 4xx in OpenAI shape', async () => {
    const app = await serve({
      models: [{ name: 'm', version: 'v1', engine: piecesEngine(['x']) }],
      limits: { bodyLimit: 2048, maxTokensCap: 16 },
    });
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      payload: '{"messages": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(errorOf(malformed.body)).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/^malformed request: /),
    });
    const big = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chatBody({ messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
    });
    expect(big.statusCode).toBe(413);
    expect(errorOf(big.body)).toEqual({
      message: 'the request body is over the limit of 2048 bytes (mmft serve --body-limit)',
      type: 'invalid_request_error',
      param: null,
      code: 'body_too_large',
    });
    const cap = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ max_tokens: 17 }) });
    expect(cap.statusCode).toBe(400);
    expect(errorOf(cap.body)).toMatchObject({ param: 'max_tokens', code: 'max_tokens_over_cap' });
    expect(
      (await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ max_completion_tokens: 0 }) })).statusCode,
    ).toBe(400);
    const role = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chatBody({ messages: [{ role: 'robot', content: 'x' }] }),
    });
    expect(errorOf(role.body)).toMatchObject({ param: 'messages[0].role' });
    const unknown = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ model: 'other' }) });
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown.body)).toMatchObject({ param: 'model', code: 'model_not_found', type: 'not_found_error' });
    const n = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ n: 2 }) });
    expect(errorOf(n.body)).toMatchObject({ param: 'n' });
  });

  test('images: bad base64, non-image bytes, too many pixels, too many bytes, remote URLs, and images to a text-only model', async () => {
    const vision: InferenceEngine = { ...piecesEngine(['ok']), family: 'vision-to-llm', acceptsImages: true };
    const app = await serve({
      models: [
        { name: 'm', version: 'v1', engine: vision },
        { name: 'text', version: 'v1', engine: piecesEngine(['x']) },
      ],
      limits: { maxImagePixels: 32 * 32, maxImageBytes: 4096 },
    });
    const ask = (url: string, model = 'm') =>
      app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: {
          model,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'what?' },
                { type: 'image_url', image_url: { url } },
              ],
            },
          ],
        },
      });
    const ok = await ask(await png(32, 32));
    expect(ok.statusCode).toBe(200);
    const cases: Array<[string, number, string]> = [
      ['data:image/png;base64,@@@notbase64', 400, 'invalid_base64'],
      [`data:image/png;base64,${Buffer.from('this is plain text, not a picture').toString('base64')}`, 400, 'invalid_image'],
      [await png(33, 32), 400, 'image_too_many_pixels'],
      [`data:image/png;base64,${Buffer.alloc(5000).toString('base64')}`, 413, 'image_too_large'],
      ['https://example.invalid/cat.png', 400, 'invalid_image_url'],
    ];
    for (const [url, status, code] of cases) {
      const r = await ask(url);
      expect({ status: r.statusCode, ...errorOf(r.body) }).toMatchObject({ status, code, param: 'messages[0].content[1].image_url.url' });
    }
    const text = await ask(await png(8, 8), 'text');
    expect(errorOf(text.body)).toMatchObject({ code: 'images_not_supported' });
  });

  test("an engine's input error is a 400, and once streaming an error event before [DONE]", async () => {
    const picky: InferenceEngine = {
      kind: 'chat',
      family: 'vision-to-llm',
      acceptsImages: true,
      // eslint-disable-next-line require-yield
      async *chat() {
        throw new MmftError('E_INPUT', 'the model reads one image with every prompt, and the request has 0', {
          hint: 'send one image_url part',
        });
      },
      async close() {},
    };
    const app = await serve({ models: [{ name: 'm', version: 'v1', engine: picky }] });
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r.body)).toEqual({
      message: 'the model reads one image with every prompt, and the request has 0 (send one image_url part)',
      type: 'invalid_request_error',
      param: null,
      code: 'e_input',
    });
    const s = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ stream: true }) });
    const events = s.body.split('\n\n').filter((e) => e !== '');
    expect(events.slice(1)).toEqual([`data: ${JSON.stringify({ error: errorOf(r.body) })}`, 'data: [DONE]']);
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ running: 0 });
  });

  test('a full queue answers 429 with Retry-After; queued requests run in order when the slot frees', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const log: string[] = [];
    const app = await serve({
      models: [{ name: 'm', version: 'v1', engine: piecesEngine(['ok'], gate, log) }],
      limits: { concurrency: 1, queueSize: 1 },
    });
    const first = app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ max_tokens: 1 }) });
    const second = app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ max_tokens: 2 }) });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', running: 1, waiting: 1 });
    const third = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody({ max_tokens: 3 }) });
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(errorOf(third.body)).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
    open();
    expect([(await first).statusCode, (await second).statusCode]).toEqual([200, 200]);
    expect(log).toEqual(['chat:1', 'chat:2']);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('mmft_http_requests_total{route="/v1/chat/completions",method="POST",status="429"} 1');
    expect(metrics).toContain('mmft_http_requests_total{route="/v1/chat/completions",method="POST",status="200"} 2');
    expect(metrics).toContain('mmft_generated_tokens_total{model="m"} 2');
    expect(metrics).toContain('mmft_model_info{model="m",version="v1",family="language-model",kind="chat"} 1');
    expect(metrics).toContain('mmft_queue_depth 0');
  });

  test('the per-request deadline answers 504 (and frees the slot)', async () => {
    const app = await serve({ models: [{ name: 'm', version: 'v1', engine: stuckEngine }], limits: { requestTimeoutMs: 20 } });
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(r.statusCode).toBe(504);
    expect(errorOf(r.body)).toMatchObject({ type: 'timeout_error', code: 'timeout' });
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ running: 0 });
  });
});

describe('embeddings', () => {
  test('texts and image data URLs, as floats or base64 float32, with usage', async () => {
    const app = await serve({ models: [{ name: 'e', version: 'v1', engine: embeddingsEngine }] });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      payload: { model: 'e', input: ['a red circle', await png(4, 4)] },
    });
    expect(r.json()).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [Math.fround(0.6), Math.fround(0.8)] },
        { object: 'embedding', index: 1, embedding: [1, 0] },
      ],
      model: 'e',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    const b = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'x', encoding_format: 'base64' } });
    const bytes = Buffer.from(b.json().data[0].embedding as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 2))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect((await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: [] } })).statusCode).toBe(400);
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'e', messages: [{ role: 'user', content: 'x' }] },
    });
    expect(errorOf(wrong.body)).toMatchObject({ code: 'wrong_model_kind' });
  });
});

describe('streaming a real tiny causal LM', () => {
  test('the SSE bytes are exactly the role chunk, one chunk per decoded piece, the finish chunk, usage and [DONE]', async () => {
    await tf.setBackend('cpu');
    const model = tinyCausalLm({ seed: 3 });
    const engine = new TfjsEngine(model);
    // The pieces the model itself streams for the same prompt (greedy, 6 tokens), independent of the server.
    const ids = model.tokenizer!.encode(['hi'], { truncation: false }).inputIds[0]!;
    const expected: string[] = [];
    const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
    const attentionMask = tf.ones([1, ids.length], 'int32');
    for await (const chunk of model.generateStream({ inputIds, attentionMask }, { maxNewTokens: 6, doSample: false }))
      if (chunk.texts[0]) expected.push(chunk.texts[0]);
    tf.dispose([inputIds, attentionMask]);
    const app = await serve({ models: [{ name: 'tiny', version: 'v1', engine }] });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: {
        model: 'tiny',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        max_tokens: 6,
        temperature: 0,
        stream_options: { include_usage: true },
      },
    });
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const first = JSON.parse(r.body.slice(6, r.body.indexOf('\n\n'))) as { id: string; created: number };
    const head = `{"id":"${first.id}","object":"chat.completion.chunk","created":${first.created},"model":"tiny","choices":`;
    const frame = (choices: string, usage = 'null') => `data: ${head}${choices},"usage":${usage}}\n\n`;
    const bytes =
      frame('[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]') +
      expected.map((p) => frame(`[{"index":0,"delta":{"content":${JSON.stringify(p)}},"logprobs":null,"finish_reason":null}]`)).join('') +
      frame('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]') +
      frame('[]', `{"prompt_tokens":${ids.length},"completion_tokens":6,"total_tokens":${ids.length + 6}}`) +
      'data: [DONE]\n\n';
    expect(expected.length).toBeGreaterThan(0);
    expect(r.body).toBe(bytes);
    const whole = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, temperature: 0 },
    });
    expect(whole.json().choices[0].message.content).toBe(expected.join(''));
  });
});

describe('shutdown and the web demo', () => {
  test('closing finishes the in-flight streamed request, refuses new ones, then closes the engines', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const log: string[] = [];
    const app = await createServer({ models: [{ name: 'm', version: 'v1', engine: piecesEngine(['a', 'b'], gate, log) }] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const reply = new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          agent: false,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(chatBody({ stream: true })));
    });
    while (log.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const closing = app.close();
    await new Promise((resolve) => setImmediate(resolve));
    // While the in-flight request finishes, a new one is turned away (fastify's return503OnClosing).
    const late = await new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, agent: false, method: 'GET', path: '/health' }, (res) =>
        resolve(String(res.statusCode)),
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    expect(late).toBe('503');
    expect(log).toEqual(['chat:256']); // not closed while the request runs
    open();
    const text = await reply;
    await closing;
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).toContain('"delta":{"content":"b"}');
    expect(log).toEqual(['chat:256', 'close']);
  });

  test('GET / and /ui/<file> serve the demo folder; a missing page is a 404 that says so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-ui-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1);');
    const app = await serve({ models: [], ui: true, uiDir: dir });
    const index = await app.inject({ method: 'GET', url: '/' });
    expect([index.statusCode, index.headers['content-type'], index.body]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><title>demo</title>',
    ]);
    expect((await app.inject({ method: 'GET', url: '/ui/app.js' })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await app.inject({ method: 'GET', url: '/ui/..%2Fsecret.js' })).statusCode).toBe(404);
    const none = await serve({ models: [], ui: true, uiDir: path.join(dir, 'absent') });
    const r = await none.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(404);
    expect(errorOf(r.body).message).toMatch(/the web demo is not installed: .*index.html is missing/);
    expect((await (await serve({ models: [] })).inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
  });

  test('POST /admin/reload swaps versions without a restart; the old engine closes after its running request', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const oldLog: string[] = [];
    const newLog: string[] = [];
    const v1 = { name: 'm', version: 'v1', engine: piecesEngine(['old'], gate, oldLog) };
    const v2 = { name: 'm', version: 'v2', engine: piecesEngine(['new'], undefined, newLog) };
    const app = await serve({
      models: [v1],
      limits: { concurrency: 2 },
      reload: async (current) => (current[0]!.version === 'v1' ? [v2] : [...current]),
    });
    const running = app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    while (oldLog.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const remote = await app.inject({ method: 'POST', url: '/admin/reload', remoteAddress: '10.0.0.7' });
    expect(remote.statusCode).toBe(403);
    const reloaded = await app.inject({ method: 'POST', url: '/admin/reload' });
    expect(reloaded.json().data.map((m: { mmft: { version: string } }) => m.mmft.version)).toEqual(['v2']);
    expect(oldLog).toEqual(['chat:256']); // still running: not closed
    const next = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(next.json().choices[0].message.content).toBe('new');
    open();
    expect((await running).json().choices[0].message.content).toBe('old');
    expect(oldLog).toEqual(['chat:256', 'close']);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('mmft_model_info{model="m",version="v2",family="language-model",kind="chat"} 1');
    expect(metrics).not.toContain('version="v1"');
    expect((await (await serve({ models: [] })).inject({ method: 'POST', url: '/admin/reload' })).statusCode).toBe(404);
  });
});

describe('a body over the limit on a real socket', () => {
  test('the 413 reaches a client still sending, and the connection stays usable (the rest of the body is discarded, not reset)', async () => {
    const app = await serve({ models: [{ name: 'e', version: 'v1', engine: embeddingsEngine }], limits: { bodyLimit: 1024 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    const body = Buffer.alloc(2 * 1024 * 1024, 'a');
    socket.write(`POST /v1/embeddings HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body);
    // A second request on the same connection after the refused body: answered only if the server read past that body.
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect([...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['413', '200']);
  });

  test('a client that asks to close gets its 413 too, its whole body read first (no reset, no EPIPE)', async () => {
    const app = await serve({ models: [{ name: 'e', version: 'v1', engine: embeddingsEngine }], limits: { bodyLimit: 1024 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => {
        const socket = net.connect(port, '127.0.0.1');
        let answer = '';
        const errors: string[] = [];
        socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
        socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
        const body = Buffer.alloc(4 * 1024 * 1024, 'a');
        socket.write(
          `POST /v1/embeddings HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n`,
        );
        socket.write(body);
        return new Promise<{ status: string | undefined; errors: string[] }>((resolve) =>
          socket.on('close', () => resolve({ status: /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1], errors })),
        );
      }),
    );
    expect(results).toEqual(new Array(4).fill({ status: '413', errors: [] }));
  });
});
