// The web demo of `mmft serve --ui` (packages/serve/ui/) driven end to end in Debian's headless Chromium through
// playwright-core (never a downloaded browser): the page uploads a rendered shapes PNG, streams an answer from
// POST /v1/chat/completions and must show exactly the server's non-streamed answer to the same request; on an
// embeddings model it ranks captions by cosine similarity from POST /v1/embeddings. docs/web-demo.md.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderScenePng, sampleScene } from '@mmft/data-shapes';

// Debian's package (`apt-get install chromium`; .ci/run installs it when missing). MMFT_CHROMIUM points elsewhere.
const CHROMIUM = process.env.MMFT_CHROMIUM ?? '/usr/bin/chromium';
const UI_DIR = path.resolve(__dirname, '../../packages/serve/ui');
// Loading two models, starting Chromium and generating take a few seconds each on a busy 2-core machine.
const TIMEOUT_MS = 90_000;

// TEMPORARY stub of the design's OpenAI-compatible contract until @mmft/serve's createServer lands.
function stubServer(): http.Server {
  const mime: Record<string, string> = { html: 'text/html', js: 'text/javascript', css: 'text/css' };
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (req.method === 'GET' && (url === '/' || url.startsWith('/ui/'))) {
        const file = url === '/' ? 'index.html' : url.slice(4);
        res.writeHead(200, { 'content-type': mime[file.split('.').pop()!] ?? 'text/plain' });
        res.end(fs.readFileSync(path.join(UI_DIR, file)));
        return;
      }
      if (url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [
              { id: 'blip2', object: 'model', created: 0, owned_by: 'mmft', mmft: { family: 'blip-2', kind: 'chat', version: 'base' } },
              { id: 'clip', object: 'model', created: 0, owned_by: 'mmft', mmft: { family: 'clip', kind: 'embeddings', version: 'base' } },
            ],
          }),
        );
        return;
      }
      if (req.method !== 'POST') return void res.writeHead(404).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (url === '/v1/chat/completions') {
        const pieces = ['a', ' large', ' green', ' hex', 'agon'];
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }] }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`);
        for (const p of pieces) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: p } }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
        res.end();
        return;
      }
      if (url === '/v1/embeddings') {
        const data = (body.input as string[]).map((item, index) => {
          const v = item.startsWith('data:image/') ? [1, 0, 0] : item.includes('green') ? [0.9, 0.1, 0] : [0.1, 0.9, 0.3];
          return { object: 'embedding', index, embedding: v };
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data, model: body.model }));
        return;
      }
      res.writeHead(404).end();
    });
  });
}

let server: http.Server;
let base: string;
let browser: Browser;
let png: Buffer;
const CHAT_MODEL = 'blip2';
const EMBEDDINGS_MODEL = 'clip';
// Scene 2 of seed 0 (domain A, one object) is a large green hexagon.
const SCENE = sampleScene(0, 2, 'A', 1);

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `serve-ui: no Chromium at ${CHROMIUM}. Install Debian's package (apt-get update && apt-get install -y chromium; .ci/run does this) ` +
        'or point MMFT_CHROMIUM at a Chromium binary. This test never downloads a browser.',
    );
  png = Buffer.from(await renderScenePng(SCENE, 64));
  server = stubServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
}, TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

/** A fresh page on the demo with every request it makes recorded (to prove nothing leaves the server). */
async function openDemo(): Promise<{ page: Page; urls: string[] }> {
  const page = await browser.newPage();
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, urls };
}

async function postJson(route: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
        await page.evaluate(() => {
          const answer = document.getElementById('answer')!;
          (window as unknown as { updates: number }).updates = 0;
          new MutationObserver((records) => ((window as unknown as { updates: number }).updates += records.length)).observe(answer, {
            childList: true,
            characterData: true,
            subtree: true,
          });
        });
        const sent = page.waitForRequest((request) => request.url().endsWith('/v1/chat/completions'));
        await page.getByRole('button', { name: 'Ask' }).click(); // question left empty
        const request = (await sent).postDataJSON() as { model: string; stream: boolean; messages: Array<{ content: unknown }> };
        await page.waitForSelector('#answer[data-state="done"]');
        const shown = await page.locator('#answer').textContent();
        const updates = await page.evaluate(() => (window as unknown as { updates: number }).updates);

        expect(request.model).toBe(CHAT_MODEL);
        expect(request.stream).toBe(true);
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
    'an embeddings model: the page ranks the right caption first with the cosines of the served embeddings',
    async () => {
      const { page, urls } = await openDemo();
      try {
        await page.getByLabel('Served model').selectOption(EMBEDDINGS_MODEL);
        await expect(page.locator('#similarity-panel').isVisible()).resolves.toBe(true);
        await expect(page.locator('#chat-panel').isVisible()).resolves.toBe(false);
        await page.getByLabel('Choose an image or drop one here').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: png });
        await page.waitForSelector('#drop-zone[data-state="loaded"]');
        const captions = ['red', 'blue', 'green', 'yellow', 'purple', 'orange'].map((colour) => `a large ${colour} hexagon`);
        await page.getByLabel('Captions, one per line').fill(captions.join('\n'));
        await page.getByRole('button', { name: 'Compare' }).click();
        await page.waitForSelector('#similarity[data-state="done"]');
        const rows = await page.locator('#similarity tbody tr').evaluateAll((trs) =>
          trs.map((tr) => ({
            caption: tr.querySelector('th')!.textContent,
            score: Number(tr.querySelector('td[data-value]')!.getAttribute('data-value')),
            best: tr.classList.contains('best'),
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
