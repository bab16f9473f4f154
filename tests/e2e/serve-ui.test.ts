// The web demo of `mmft serve --ui` (packages/serve/ui/) driven end to end in Debian's headless Chromium through
// playwright-core (never a downloaded browser): the page uploads a rendered shapes PNG, streams an answer from
// POST /v1/chat/completions and must show exactly the server's non-streamed answer to the same request; on an
// embeddings model it ranks captions by cosine similarity from POST /v1/embeddings. docs/web-demo.md.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCliContext } from '@mmft/cli';
import { parseConfig } from '@mmft/core';
import { renderScenePng, sampleScene } from '@mmft/data-shapes';
import { createServer, TfjsEngine } from '@mmft/serve';

// Debian's package (`apt-get install chromium`; .ci/run installs it when missing). MMFT_CHROMIUM points elsewhere.
const CHROMIUM = process.env.MMFT_CHROMIUM ?? '/usr/bin/chromium';
const MODELS = path.resolve(__dirname, '../../models');
// Loading two models, starting Chromium and generating take a few seconds each on a busy 2-core machine.
const TIMEOUT_MS = 90_000;

let server: Awaited<ReturnType<typeof createServer>> | undefined;
let base: string;
let browser: Browser | undefined;
let png: Buffer;
const CHAT_MODEL = 'llava-shapes';
const TEXT_MODEL = 'llama-shapes';
const EMBEDDINGS_MODEL = 'clip-shapes';
// Scene 2 of seed 0 (domain A, one object) is a large green hexagon.
const SCENE = sampleScene(0, 2, 'A', 1);

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `serve-ui: no Chromium at ${CHROMIUM}. Install Debian's package (apt-get update && apt-get install -y chromium; .ci/run does this) ` +
        'or point MMFT_CHROMIUM at a Chromium binary. This test never downloads a browser.',
    );
  png = Buffer.from(await renderScenePng(SCENE, 64));
  // The models load as `mmft serve` loads them (the tfjs backend selected first), with only the plugins they need.
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const builtins = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/arch-llava'];
  const registry = await createCliContext({ stdout: quiet, stderr: quiet, builtins }).createRegistry();
  const backend = registry.list('backend').find((b) => b.id === 'tfjs')!;
  await backend.select(parseConfig(backend, {}));
  const [chat, text, embeddings] = await Promise.all([
    TfjsEngine.load(path.join(MODELS, 'llava-shapes-base'), registry),
    TfjsEngine.load(path.join(MODELS, 'llama-shapes-base'), registry),
    TfjsEngine.load(path.join(MODELS, 'clip-shapes-base'), registry),
  ]);
  server = await createServer({
    models: [
      { name: CHAT_MODEL, version: 'base', engine: chat },
      { name: TEXT_MODEL, version: 'base', engine: text },
      { name: EMBEDDINGS_MODEL, version: 'base', engine: embeddings },
    ],
    ui: true,
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
}, TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close(); // closes the engines too
});

/** A fresh page on the demo with every request it makes recorded (to prove nothing leaves the server). */
async function openDemo(): Promise<{ page: Page; urls: string[] }> {
  const page = await browser!.newPage();
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, urls };
}

async function postJson(route: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

describe('mmft serve --ui in headless Chromium', () => {
  test(
    'a chat model: the streamed answer on the page equals the non-streamed answer to the same request',
    async () => {
      const { page, urls } = await openDemo();
      try {
        await page.getByLabel('Served model').selectOption(CHAT_MODEL);
        await expect(page.locator('#chat-panel').isVisible()).resolves.toBe(true);
        await expect(page.locator('#similarity-panel').isVisible()).resolves.toBe(false);
        await page.getByLabel('Choose an image or drop one here').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: png });
        await page.waitForSelector('#drop-zone[data-state="loaded"]');

        // Count the answer's updates: more than one proves the text arrived in pieces, not at once.
        // (Browser code as a string: this file compiles without the DOM library.)
        await page.evaluate(`
          window.updates = 0;
          new MutationObserver((records) => { window.updates += records.length; })
            .observe(document.getElementById('answer'), { childList: true, characterData: true, subtree: true });
        `);
        const sent = page.waitForRequest((request) => request.url().endsWith('/v1/chat/completions'));
        await page.getByRole('button', { name: 'Ask' }).click(); // question left empty
        const request = (await sent).postDataJSON() as { model: string; stream: boolean; messages: Array<{ content: unknown }> };
        await page.waitForSelector('#answer[data-state="done"]');
        const shown = await page.locator('#answer').textContent();
        const updates = (await page.evaluate('window.updates')) as number;

        expect(request.model).toBe(CHAT_MODEL);
        expect(request).toMatchObject({ stream: true, max_tokens: 32, temperature: 0 }); // the page's documented defaults
        expect(request.messages).toEqual([
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
              { type: 'text', text: 'Describe the image.' },
            ],
          },
        ]);
        const plain = (await postJson('/v1/chat/completions', { ...request, stream: false })) as {
          choices: Array<{ message: { content: string } }>;
        };
        const expected = plain.choices[0]!.message.content;
        expect(expected.length).toBeGreaterThan(0);
        expect(shown).toBe(expected);
        expect(updates).toBeGreaterThan(1);
        expect(await page.locator('#error').isHidden()).toBe(true);
        expect(urls.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
      } finally {
        await page.close();
      }
    },
    TIMEOUT_MS,
  );

  test(
    'a text-only chat model: the page leaves the image out and shows the non-streamed answer',
    async () => {
      const { page } = await openDemo();
      try {
        await page.getByLabel('Served model').selectOption(TEXT_MODEL);
        await expect(page.locator('#model-info').textContent()).resolves.toContain('It reads text only: the image is not sent.');
        await page.getByLabel('Choose an image or drop one here').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: png });
        await page.waitForSelector('#drop-zone[data-state="loaded"]');
        await page.getByLabel('Question').fill('There is');
        const sent = page.waitForRequest((request) => request.url().endsWith('/v1/chat/completions'));
        await page.getByRole('button', { name: 'Ask' }).click();
        const request = (await sent).postDataJSON() as Record<string, unknown>;
        await page.waitForSelector('#answer[data-state="done"]');

        expect(request.messages).toEqual([{ role: 'user', content: 'There is' }]);
        const plain = (await postJson('/v1/chat/completions', { ...request, stream: false })) as {
          choices: Array<{ message: { content: string } }>;
        };
        expect(plain.choices[0]!.message.content.length).toBeGreaterThan(0);
        await expect(page.locator('#answer').textContent()).resolves.toBe(plain.choices[0]!.message.content);
      } finally {
        await page.close();
      }
    },
    TIMEOUT_MS,
  );

  test(
    "a refused request: the page shows the server's error message in its alert",
    async () => {
      const { page } = await openDemo();
      try {
        await page.getByLabel('Served model').selectOption(CHAT_MODEL);
        // Claims to be a PNG, so the page sends it; the server cannot decode it and answers 400.
        const broken = Buffer.from('not an image at all');
        await page
          .getByLabel('Choose an image or drop one here')
          .setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: broken });
        await page.waitForSelector('#drop-zone[data-state="loaded"]');
        await page.getByLabel('Question').fill('What colour is the shape?');
        const sent = page.waitForRequest((request) => request.url().endsWith('/v1/chat/completions'));
        await page.getByRole('button', { name: 'Ask' }).click();
        const request = (await sent).postDataJSON() as Record<string, unknown>;
        await page.waitForSelector('#answer[data-state="error"]');

        const response = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        const { error } = (await response.json()) as { error: { message: string } };
        expect(response.status).toBe(400);
        await expect(page.getByRole('alert').textContent()).resolves.toBe(`The answer failed: 400: ${error.message}`);
        await expect(page.locator('#answer').textContent()).resolves.toBe('');
      } finally {
        await page.close();
      }
    },
    TIMEOUT_MS,
  );

  test(
    'an embeddings model: the page ranks the right caption first with the cosines of the served embeddings',
    async () => {
      const { page, urls } = await openDemo();
      try {
        await page.getByLabel('Served model').selectOption(EMBEDDINGS_MODEL);
        await expect(page.locator('#similarity-panel').isVisible()).resolves.toBe(true);
        await expect(page.locator('#chat-panel').isVisible()).resolves.toBe(false);
        // This time the image is dropped on the page, as a file dragged from the desktop arrives.
        const dataTransfer = await page.evaluateHandle(`(() => {
          const bytes = Uint8Array.from(atob('${png.toString('base64')}'), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], 'scene.png', { type: 'image/png' }));
          return transfer;
        })()`);
        await page.locator('#drop-zone').dispatchEvent('drop', { dataTransfer });
        await page.waitForSelector('#drop-zone[data-state="loaded"]');
        const captions = ['red', 'blue', 'green', 'yellow', 'purple', 'orange'].map((colour) => `a large ${colour} hexagon`);
        await page.getByLabel('Captions, one per line').fill(captions.join('\n'));
        await page.getByRole('button', { name: 'Compare' }).click();
        await page.waitForSelector('#similarity[data-state="done"]');
        const rows = await Promise.all(
          (await page.locator('#similarity tbody tr').all()).map(async (tr) => ({
            caption: await tr.locator('th').textContent(),
            score: Number(await tr.locator('td[data-value]').getAttribute('data-value')),
            best: (await tr.getAttribute('class')) === 'best',
          })),
        );

        // The same cosines computed here from the server's own embeddings of the same inputs.
        const { data } = (await postJson('/v1/embeddings', {
          model: EMBEDDINGS_MODEL,
          input: [`data:image/png;base64,${png.toString('base64')}`, ...captions],
        })) as { data: Array<{ index: number; embedding: number[] }> };
        const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));
        const expected = captions
          .map((caption, i) => ({ caption, score: cos(vectors[0]!, vectors[i + 1]!) }))
          .sort((a, b) => b.score - a.score);

        expect(rows.map((r) => r.caption)).toEqual(expected.map((e) => e.caption));
        rows.forEach((row, i) => expect(row.score).toBeCloseTo(expected[i]!.score, 6));
        expect(rows[0]).toMatchObject({ caption: `a large ${SCENE.objects[0]!.color} ${SCENE.objects[0]!.shape}`, best: true });
        expect(rows.filter((r) => r.best)).toHaveLength(1);
        expect(urls.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
      } finally {
        await page.close();
      }
    },
    TIMEOUT_MS,
  );
});
