// @mmft/serve end to end with real plugins: an OpenAI-client-shaped exchange over HTTP on loopback
// (a streamed image question to the embedded LLaVA, read as OpenAI's clients read server-sent
// events), CLIP embeddings whose cosine equals the tfjs model's own, the first-party blocklist filter
// catching English and Chinese terms split across streamed pieces, and `mmft serve` itself finishing
// an in-flight request on SIGTERM. docs/serving.md.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { parseConfig, type PluginRegistry, type VisionLanguageModel } from '@mmft/core';
import { renderScenePng, sampleScene } from '@mmft/data-shapes';
import { preprocess } from '@mmft/image';
import { createServer, TfjsEngine, type InferenceEngine } from '@mmft/serve';

const ROOT = path.resolve(__dirname, '../..');
const MODELS = path.join(ROOT, 'models');
const TIMEOUT_MS = 120_000;

let registry: PluginRegistry;
let server: Awaited<ReturnType<typeof createServer>> | undefined;
let base: string;
let png: Buffer;

beforeAll(async () => {
  png = Buffer.from(await renderScenePng(sampleScene(0, 5, 'A', 2), 64));
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const builtins = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/arch-llava', '@mmft/filter-blocklist'];
  registry = await createCliContext({ stdout: quiet, stderr: quiet, builtins }).createRegistry();
  const backend = registry.list('backend').find((b) => b.id === 'tfjs')!;
  await backend.select(parseConfig(backend, {}));
  const [llava, clip] = await Promise.all([
    TfjsEngine.load(path.join(MODELS, 'llava-shapes-base'), registry),
    TfjsEngine.load(path.join(MODELS, 'clip-shapes-base'), registry),
  ]);
  server = await createServer({
    models: [
      { name: 'llava-shapes', version: 'base', engine: llava },
      { name: 'clip-shapes', version: 'base', engine: clip },
    ],
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}, TIMEOUT_MS);

afterAll(async () => {
  await server?.close();
});

async function post(route: string, body: unknown, at = base): Promise<Response> {
  return fetch(`${at}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Reads an SSE body as OpenAI's clients do: events split on a blank line, `data: ` payloads until `[DONE]`. */
async function readEvents(response: Response): Promise<{ events: Array<Record<string, any>>; done: boolean; reads: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<Record<string, any>> = [];
  let buffer = '';
  let done = false;
  let reads = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    reads += 1;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      expect(event.startsWith('data: ')).toBe(true);
      const data = event.slice(6);
      if (data === '[DONE]') done = true;
      else events.push(JSON.parse(data) as Record<string, any>);
    }
  }
  expect(buffer).toBe('');
  return { events, done, reads };
}

const question = (stream: boolean) => ({
  model: 'llava-shapes',
  stream,
  max_tokens: 12,
  temperature: 0,
  ...(stream ? { stream_options: { include_usage: true } } : {}),
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What shapes are in the picture?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
      ],
    },
  ],
});

describe('mmft serve, OpenAI-compatible, with real models', () => {
  test(
    'an image question to LLaVA streams the same answer the non-streamed request returns, with role, finish and usage chunks',
    async () => {
      const plain = await post('/v1/chat/completions', question(false));
      expect(plain.status).toBe(200);
      const whole = (await plain.json()) as {
        choices: Array<{ message: { content: string }; finish_reason: string }>;
        usage: Record<string, number>;
      };
      const response = await post('/v1/chat/completions', question(true));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const { events, done } = await readEvents(response);
      expect(done).toBe(true);
      expect(events[0]!.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
      const content = events
        .slice(1, -2)
        .map((e) => {
          expect(e.choices[0].finish_reason).toBeNull();
          return e.choices[0].delta.content as string;
        })
        .join('');
      expect(events.length).toBeGreaterThan(4); // role, ≥ 2 pieces, finish, usage
      expect(events.at(-2)!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: whole.choices[0]!.finish_reason });
      expect(events.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
      expect(content).toBe(whole.choices[0]!.message.content);
      expect(content.length).toBeGreaterThan(0);
      // 12 new tokens after a prompt holding LLaVA's image span.
      expect(whole.usage.completion_tokens).toBe(12);
      expect(whole.usage.prompt_tokens).toBeGreaterThan(12);
      expect(new Set(events.map((e) => e.id)).size).toBe(1);
    },
    TIMEOUT_MS,
  );

  test(
    "CLIP embeddings over HTTP equal the tfjs model's own text_embeds / image_embeds, and so does their cosine",
    async () => {
      const texts = ['a red circle', 'two blue squares'];
      const response = await post('/v1/embeddings', {
        model: 'clip-shapes',
        input: [...texts, `data:image/png;base64,${png.toString('base64')}`],
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: Array<{ index: number; embedding: number[] }>; usage: { prompt_tokens: number } };
      expect(body.data.map((d) => d.index)).toEqual([0, 1, 2]);
      const [t0, t1, image] = body.data.map((d) => d.embedding);

      // The model's own embeddings, computed here from the checkpoint folder without the server.
      const dir = path.join(MODELS, 'clip-shapes-base');
      const model: VisionLanguageModel = await registry.resolveModelType('clip').fromPretrained(dir);
      try {
        const p = model.processor.imageProcessing!;
        const pixels = await preprocess(png, { size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
        const own = tf.tidy(() => {
          const tok = model.processor.tokenizer!;
          const text = texts.map((t) => {
            const e = tok.encode([t], { truncation: true, maxLength: 77 });
            return Array.from(
              model
                .forward({
                  inputIds: tf.tensor2d(e.inputIds, undefined, 'int32'),
                  attentionMask: tf.tensor2d(e.attentionMask, undefined, 'int32'),
                })
                .textEmbeds!.dataSync(),
            );
          });
          const img = Array.from(
            model.forward({ pixelValues: tf.tensor4d(pixels.data, [1, 3, pixels.shape[1], pixels.shape[2]]) }).imageEmbeds!.dataSync(),
          );
          return { text, img };
        });
        const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
        const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));
        const cos = (a: readonly number[], b: readonly number[]) => dot(a, b) / (norm(a) * norm(b));
        for (const [served, mine] of [
          [t0!, own.text[0]!],
          [t1!, own.text[1]!],
          [image!, own.img],
        ] as const) {
          expect(served.length).toBe(mine.length);
          expect(Math.abs(norm(served) - 1)).toBeLessThan(1e-5); // L2-normalised as text_embeds / image_embeds
          expect(Math.max(...served.map((x, i) => Math.abs(x - mine[i]!)))).toBeLessThan(1e-6);
        }
        expect(Math.abs(cos(image!, t0!) - cos(own.img, own.text[0]!))).toBeLessThan(1e-6);
        expect(Math.abs(cos(image!, t1!) - cos(own.img, own.text[1]!))).toBeLessThan(1e-6);
        expect(body.usage.prompt_tokens).toBe(
          texts.reduce((n, t) => n + model.processor.tokenizer!.encode([t], { truncation: false }).inputIds[0]!.length, 0),
        );
      } finally {
        model.dispose();
      }
    },
    TIMEOUT_MS,
  );

  test(
    'the blocklist plugin redacts English and Chinese terms split across streamed pieces, and refuses with content_filter',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-'));
      const file = path.join(dir, 'blocked.txt');
      fs.writeFileSync(file, 'red triangle\n违禁词\n');
      const pieces = ['I see a re', 'd tri', 'angle and ', '一个违', '禁', '词。 A reddish triangles row.'];
      const engine: InferenceEngine = {
        kind: 'chat',
        family: 'language-model',
        async *chat() {
          yield* pieces;
        },
        async close() {},
      };
      const provider = registry.resolve('filter', 'blocklist');
      const filtered = async (mode: 'redact' | 'refuse') => {
        const app = await createServer({
          models: [{ name: 'm', version: 'v1', engine }],
          filters: [provider.create(parseConfig(provider, { file, mode }))],
        });
        await app.listen({ host: '127.0.0.1', port: 0 });
        try {
          const at = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
          const response = await post('/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }, at);
          const { events } = await readEvents(response);
          return {
            text: events.map((e) => (e.choices[0]?.delta?.content as string | undefined) ?? '').join(''),
            finish: events.at(-1)!.choices[0].finish_reason as string,
          };
        } finally {
          await app.close();
        }
      };
      expect(await filtered('redact')).toEqual({ text: 'I see a *** and 一个***。 A reddish triangles row.', finish: 'stop' });
      const refused = await filtered('refuse');
      expect(refused.finish).toBe('content_filter');
      expect('I see a '.startsWith(refused.text)).toBe(true);
    },
    TIMEOUT_MS,
  );

  test(
    '`mmft serve` on a folder of versions: reloads v2 without a restart, and on SIGTERM finishes an open streamed reply before it exits 0',
    async () => {
      const runs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-')), 'runs');
      fs.mkdirSync(runs);
      fs.symlinkSync(path.join(MODELS, 'llama-shapes-base'), path.join(runs, 'v1'), 'dir');
      const child = spawn(process.execPath, [path.join(ROOT, 'packages/cli/dist/main.js'), 'serve', runs, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      while (!/ at (http:\/\/\S+)/.test(out)) {
        if (child.exitCode !== null) throw new Error(`mmft serve exited early: ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const at = / at (http:\/\/\S+)/.exec(out)![1]!;
      expect(out).toMatch(/^mmft serve: runs \(v1, chat\) at http:\/\/127\.0\.0\.1:\d+\n/);
      const versions = async () =>
        ((await (await fetch(`${at}/v1/models`)).json()) as { data: Array<{ id: string; mmft: { version: string } }> }).data.map(
          (m) => `${m.id}@${m.mmft.version}`,
        );
      expect(await versions()).toEqual(['runs@v1']);
      fs.symlinkSync(path.join(MODELS, 'opt-shapes-base'), path.join(runs, 'v2'), 'dir');
      expect(await versions()).toEqual(['runs@v1']); // nothing changes until asked
      expect((await post('/admin/reload', {}, at)).status).toBe(200);
      expect(await versions()).toEqual(['runs@v2']);
      expect(await (await fetch(`${at}/metrics`)).text()).toContain(
        'mmft_model_info{model="runs",version="v2",family="language-model",kind="chat"} 1',
      );

      // A streamed reply is open (its role chunk read) when SIGTERM arrives; the rest must still come.
      const response = await post(
        '/v1/chat/completions',
        { messages: [{ role: 'user', content: 'Which shape is red?' }], max_tokens: 40, stream: true },
        at,
      );
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      expect(text.startsWith('data: {')).toBe(true);
      child.kill('SIGTERM');
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      expect(text).toMatch(/"finish_reason":"(stop|length)"/);
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(await exited).toBe(0);
    },
    TIMEOUT_MS,
  );
});
