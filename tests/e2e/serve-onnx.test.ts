// The serve package's OnnxEngine against TfjsEngine on the embedded models, each exported in the test
// with the exporter (models/llama-shapes-base, llava-shapes-base, blip2-shapes-base, clip-shapes-base): the
// same chat request gives the same greedy reply, piece for piece, and the same usage; a seeded sampled
// request gives the same reply too (same logits within 1e-4, same random stream); CLIP's L2-normalised
// embeddings agree within 1e-4. Then the ONNX engines answer through createServer's routes.
import '@mmft/exporter-onnx/jest-ort-realm';
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createCliContext } from '@mmft/cli';
import { parseConfig, type PluginRegistry } from '@mmft/core';
import { renderScenePng, sampleScene } from '@mmft/data-shapes';
import { exportOnnx } from '@mmft/exporter-onnx';
import {
  createServer,
  detectOnnxExport,
  OnnxEngine,
  TfjsEngine,
  type ChatRequest,
  type ChatUsage,
  type InferenceEngine,
} from '@mmft/serve';

const ROOT = path.resolve(__dirname, '../..');
const MODELS = path.join(ROOT, 'models');
const TIMEOUT_MS = 180_000;

let registry: PluginRegistry;
let dir: string;
let png: Buffer;
const engines: InferenceEngine[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-onnx-'));
  png = Buffer.from(await renderScenePng(sampleScene(0, 5, 'A', 2), 64));
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const builtins = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/arch-llava', '@mmft/arch-blip2', '@mmft/arch-opt'];
  registry = await createCliContext({ stdout: quiet, stderr: quiet, builtins }).createRegistry();
  const backend = registry.list('backend').find((b) => b.id === 'tfjs')!;
  await backend.select(parseConfig(backend, {}));
}, TIMEOUT_MS);

afterAll(async () => {
  for (const e of engines) await e.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The tfjs engine of an embedded model and the ONNX engine of its export. */
async function pair(name: string): Promise<{ tfjs: TfjsEngine; onnx: OnnxEngine; out: string }> {
  const tfjs = await TfjsEngine.load(path.join(MODELS, name), registry);
  engines.push(tfjs);
  const out = path.join(dir, name);
  await exportOnnx(tfjs.model, out, { sourceDir: path.join(MODELS, name) });
  const onnx = await OnnxEngine.load(out);
  engines.push(onnx);
  return { tfjs, onnx, out };
}

async function reply(engine: InferenceEngine, request: Omit<ChatRequest, 'onUsage'>): Promise<{ pieces: string[]; usage?: ChatUsage }> {
  let usage: ChatUsage | undefined;
  const pieces: string[] = [];
  for await (const p of engine.chat!({ ...request, onUsage: (u) => (usage = u) }, new AbortController().signal)) pieces.push(p);
  return { pieces, usage };
}

/** The engine's members as a plain object, its methods bound. */
const engineView = (e: InferenceEngine): InferenceEngine => ({
  kind: e.kind,
  family: e.family,
  acceptsImages: e.acceptsImages ?? false,
  ...(e.chat ? { chat: e.chat.bind(e) } : {}),
  ...(e.embed ? { embed: e.embed.bind(e) } : {}),
  ...(e.countTokens ? { countTokens: e.countTokens.bind(e) } : {}),
  close: e.close.bind(e),
});

const user = (text: string, images: Uint8Array[] = []) => [{ role: 'user' as const, text, images, imageAt: images.map(() => 0) }];

describe('OnnxEngine on an exported causal LM (llama-shapes-base)', () => {
  let tfjs: TfjsEngine;
  let onnx: OnnxEngine;
  let out: string;
  beforeAll(async () => ({ tfjs, onnx, out } = await pair('llama-shapes-base')), TIMEOUT_MS);

  test('the folder is detected as a causal-LM export, the checkpoint folder as none', async () => {
    expect(await detectOnnxExport(out)).toEqual({ layout: 'causal-lm', suffix: '' });
    expect(await detectOnnxExport(path.join(MODELS, 'llama-shapes-base'))).toBeUndefined();
    expect(onnx.kind).toBe('chat');
    expect(onnx.family).toBe(tfjs.family);
  });

  test('greedy replies equal the tfjs engine piece for piece, with the same usage', async () => {
    for (const text of ['the red circle is left of', 'how many squares are there in the picture ?']) {
      const request = { messages: user(text), maxTokens: 12, temperature: 0 };
      const [a, b] = [await reply(tfjs, request), await reply(onnx, request)];
      expect(b.pieces.join('').length).toBeGreaterThan(0);
      expect(b.pieces).toEqual(a.pieces);
      expect(b.usage).toEqual(a.usage);
    }
  });

  test('a seeded sampled reply (temperature, top_p) equals the tfjs engine', async () => {
    const request = { messages: user('the blue square is'), maxTokens: 10, temperature: 0.8, topP: 0.9, seed: 7 };
    expect((await reply(onnx, request)).pieces).toEqual((await reply(tfjs, request)).pieces);
  });

  test('aborting stops the decoding and reports the tokens made so far', async () => {
    const controller = new AbortController();
    let usage: ChatUsage | undefined;
    const pieces: string[] = [];
    for await (const p of onnx.chat!(
      { messages: user('the red circle is left of'), maxTokens: 12, temperature: 0, onUsage: (u) => (usage = u) },
      controller.signal,
    )) {
      pieces.push(p);
      controller.abort();
    }
    expect(pieces).toHaveLength(1);
    expect(usage!.completionTokens).toBeLessThan(12);
    expect(usage!.completionTokens).toBeGreaterThanOrEqual(1);
  });

  test('createServer answers a chat completion through the ONNX engine as through tfjs', async () => {
    const body = { messages: [{ role: 'user', content: 'the red circle is left of' }], max_tokens: 8, temperature: 0 };
    const answers: string[] = [];
    for (const engine of [tfjs, onnx]) {
      // A wrapper whose close() leaves the shared engine open when the server closes.
      const app = await createServer({
        models: [{ name: 'llama', version: 'base', engine: { ...engineView(engine), close: async () => {} } }],
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      answers.push(((await res.json()) as any).choices[0].message.content as string);
      await app.close();
    }
    expect(answers[1]).toBe(answers[0]);
  });
});

describe('OnnxEngine on an exported LLaVA (llava-shapes-base)', () => {
  let tfjs: TfjsEngine;
  let onnx: OnnxEngine;
  beforeAll(async () => ({ tfjs, onnx } = await pair('llava-shapes-base')), TIMEOUT_MS);

  test('an image question gets the tfjs engine greedy reply', async () => {
    expect(onnx.acceptsImages).toBe(true);
    const request = { messages: user('what shapes are in the picture ?', [png]), maxTokens: 12, temperature: 0 };
    const [a, b] = [await reply(tfjs, request), await reply(onnx, request)];
    expect(b.pieces.join('').length).toBeGreaterThan(0);
    expect(b.pieces).toEqual(a.pieces);
    expect(b.usage).toEqual(a.usage);
  });
});

describe('OnnxEngine on an exported BLIP-2 (blip2-shapes-base, queries prepended by the decoder)', () => {
  let tfjs: TfjsEngine;
  let onnx: OnnxEngine;
  beforeAll(async () => ({ tfjs, onnx } = await pair('blip2-shapes-base')), TIMEOUT_MS);

  test.each([
    ['a question', 'what shapes are in the picture ?'],
    ['a caption (no text)', ''],
  ])('%s gets the tfjs engine greedy reply', async (_name, text) => {
    const request = { messages: user(text, [png]), maxTokens: 12, temperature: 0 };
    const [a, b] = [await reply(tfjs, request), await reply(onnx, request)];
    expect(b.pieces.join('').length).toBeGreaterThan(0);
    expect(b.pieces).toEqual(a.pieces);
    expect(b.usage?.completionTokens).toBe(a.usage?.completionTokens);
  });
});

describe('OnnxEngine on an exported CLIP (clip-shapes-base)', () => {
  let tfjs: TfjsEngine;
  let onnx: OnnxEngine;
  beforeAll(async () => ({ tfjs, onnx } = await pair('clip-shapes-base')), TIMEOUT_MS);

  test('text and image embeddings are unit vectors within 1e-4 of the tfjs engine', async () => {
    expect(onnx.kind).toBe('embeddings');
    const inputs = [{ text: 'a red circle' }, { text: 'two blue squares and a green triangle' }, { image: new Uint8Array(png) }];
    const [a, b] = [await tfjs.embed(inputs), await onnx.embed(inputs)];
    expect(b).toHaveLength(3);
    b.forEach((v, i) => {
      expect(v.length).toBe(a[i]!.length);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      let max = 0;
      v.forEach((x, j) => (max = Math.max(max, Math.abs(x - a[i]![j]!))));
      expect(max).toBeLessThanOrEqual(1e-4);
    });
    expect(onnx.countTokens('a red circle')).toBe(tfjs.countTokens('a red circle'));
  });
});

describe('mmft serve on an export folder', () => {
  test(
    'picks the ONNX engine for a version folder holding model.onnx, answers as the tfjs engine did, and --engine tfjs on it fails clearly',
    async () => {
      const runs = path.join(dir, 'runs');
      fs.mkdirSync(runs);
      // pair() above exported llama-shapes-base to dir/llama-shapes-base.
      fs.symlinkSync(path.join(dir, 'llama-shapes-base'), path.join(runs, 'v1'), 'dir');
      const start = (...args: string[]) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'packages/cli/dist/main.js'), 'serve', runs, '--port', '0', ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const state = { out: '' };
        child.stdout.on('data', (c: Buffer) => (state.out += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (state.out += c.toString('utf8')));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        return { child, state, exited };
      };
      const server = start();
      while (!/ at (http:\/\/\S+)/.test(server.state.out)) {
        if (server.child.exitCode !== null) throw new Error(`mmft serve exited early: ${server.state.out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(server.state.out).toMatch(/^mmft serve: runs \(v1, chat, onnx\) at http:\/\/127\.0\.0\.1:\d+\n/);
      const at = / at (http:\/\/\S+)/.exec(server.state.out)![1]!;
      const res = await fetch(`${at}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'the red circle is left of' }], max_tokens: 8, temperature: 0 }),
      });
      const tfjs = await TfjsEngine.load(path.join(MODELS, 'llama-shapes-base'), registry);
      engines.push(tfjs);
      const expected = (await reply(tfjs, { messages: user('the red circle is left of'), maxTokens: 8, temperature: 0 })).pieces.join('');
      expect(((await res.json()) as any).choices[0].message.content).toBe(expected);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);

      const wrong = start('--engine', 'tfjs');
      expect(await wrong.exited).not.toBe(0);
      expect(wrong.state.out).toMatch(/model\.safetensors|safetensors/);
    },
    TIMEOUT_MS,
  );
});
