// Batch `mmft generate --input rows.jsonl --output out.jsonl` on a tiny Llama: each batch's texts are
// the plain-JS reference's greedy argmax loop over that batch left-padded (rows 0–1, then row 2 alone
// with --batch-size 2), written in input order with the given ids (else the row index); a messages
// row renders the chat template once; sampling seeds batch k with deriveSeed(seed, k), so a range
// run apart (a queued shard) gives the texts of the whole run and a one-off run with that seed; bad
// rows name file:line:field.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors } from '@mmft/core';
import { HfTokenizer, tokenizerFromFiles } from '@mmft/core/hf';
import { deriveSeed } from '@mmft/image';
import { createTinyLlamaCheckpoint, refGreedy, type TinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { createCliContext } from '../context';
import { runCliForTest } from '../testing';
import { decodingOptions, loadModel } from './generate';
import { readBatchInput } from '../generate/input';
import { checkRowsForModel } from '../generate/prompt';
import { generateRange } from '../generate/range';
import type { GenerateBatchSpec } from '../generate/spec';
import { imageInputs, type GenerateCliOptions } from './generate-inputs';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-llama', '@mmft/arch-clip', '@mmft/arch-llava', '@mmft/peft-lora'];
const LLAVA = path.resolve(__dirname, '..', '..', '..', '..', 'models', 'llava-shapes-base');
const svg = (fill: string, shape: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/>${shape.replace('FILL', fill)}</svg>`;
let tmp: string;
let llama: TinyLlamaCheckpoint;
let tokenizer: HfTokenizer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-generate-batch-'));
  llama = await createTinyLlamaCheckpoint(path.join(tmp, 'llama'), {
    seed: 11,
    config: { initializer_range: 0.3 },
    tokenizer: { padToken: '<unk>' },
  });
  tokenizer = tokenizerFromFiles(llama.tokenizerFiles)! as HfTokenizer;
  fs.mkdirSync(path.join(tmp, 'img'));
  fs.writeFileSync(path.join(tmp, 'img', 'a.svg'), svg('red', '<circle cx="32" cy="32" r="20" fill="FILL"/>'));
  fs.writeFileSync(path.join(tmp, 'img', 'b.svg'), svg('blue', '<rect x="12" y="12" width="40" height="40" fill="FILL"/>'));
  fs.writeFileSync(path.join(tmp, 'img', 'c.svg'), svg('green', '<polygon points="32,8 56,56 8,56" fill="FILL"/>'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => runCliForTest(['generate', ...argv], { cwd: tmp, builtins: BUILTINS });
const write = (name: string, rows: unknown[]) => {
  fs.writeFileSync(path.join(tmp, name), rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  return name;
};
const readOut = (name: string) =>
  fs
    .readFileSync(path.join(tmp, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function weights(): Promise<Map<string, unknown>> {
  const { tensors } = await readSafetensors(path.join(llama.dir, 'model.safetensors'));
  return new Map([...tensors].map(([name, t]) => [name, tf.tidy(() => tf.tensor(t.data as Float32Array, t.shape, 'float32').arraySync())]));
}

/** The greedy texts of one batch: rows left-padded with <unk> (id 0), the reference loop, decoded without specials. */
async function referenceTexts(ids: number[][], maxNewTokens: number): Promise<string[]> {
  const width = Math.max(...ids.map((r) => r.length));
  const prompt = {
    inputIds: ids.map((r) => [...new Array<number>(width - r.length).fill(0), ...r]),
    attentionMask: ids.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]),
  };
  const eos = tokenizer.specialTokenIds.eos!;
  return refGreedy(await weights(), llama.config, prompt, { maxNewTokens, eos: [eos], pad: 0 }).map((row) => {
    const end = row.indexOf(eos);
    return tokenizer.decode(end < 0 ? row : row.slice(0, end + 1), { skipSpecialTokens: true });
  });
}

const encode = (text: string, special = true) => tokenizer.encode([text], { truncation: false, addSpecialTokens: special }).inputIds[0]!;

describe('mmft generate --input', () => {
  test('greedy texts of each batch are the reference loop; rows come back in input order with their ids', async () => {
    const prompts = ['a red circle', 'how many stars are there?', 'a blue'];
    const input = write('rows.jsonl', [{ id: 'first', prompt: prompts[0] }, { prompt: prompts[1] }, '', { id: 7, prompt: prompts[2] }]);
    const r = await run(['llama', '--input', input, '--output', 'out.jsonl', '--batch-size', '2', '--max-new-tokens', '5']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('wrote 3 rows');
    const expected = [
      ...(await referenceTexts([encode(prompts[0]!), encode(prompts[1]!)], 5)),
      ...(await referenceTexts([encode(prompts[2]!)], 5)),
    ];
    expect(readOut('out.jsonl')).toEqual([
      { id: 'first', prompt: prompts[0], text: expected[0] },
      { id: 1, prompt: prompts[1], text: expected[1] },
      { id: 7, prompt: prompts[2], text: expected[2] },
    ]);
  });

  test('a messages row goes through the chat template with the generation prompt, one <s>', async () => {
    const messages = [{ role: 'user', content: 'what is red?' }];
    const input = write('chat.jsonl', [{ messages }]);
    const r = await run(['llama', '--input', input, '--output', 'chat-out.jsonl', '--max-new-tokens', '3']);
    expect(r.stderr).toBe('');
    const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    const ids = encode(text, false);
    expect(ids.filter((id) => id === tokenizer.specialTokenIds.bos)).toHaveLength(1);
    expect(readOut('chat-out.jsonl')).toEqual([{ id: 0, messages, text: (await referenceTexts([ids], 3))[0] }]);
  });

  test('sampling seeds batch k with deriveSeed(seed, k): a range run apart and a one-off run give the same texts', async () => {
    const prompts = ['a red', 'a blue', 'a green', 'how many'];
    const input = write(
      'sample.jsonl',
      prompts.map((prompt) => ({ prompt })),
    );
    const flags = ['--do-sample', '--top-k', '20', '--max-new-tokens', '6', '--seed', '5', '--batch-size', '2'];
    const r = await run(['llama', '--input', input, '--output', 'sample-out.jsonl', ...flags]);
    expect(r.stderr).toBe('');
    const whole = readOut('sample-out.jsonl').map((row) => row.text);
    // Batch 1 (rows 2–3) alone, as a worker computes a shard.
    const ctx = createCliContext({ isTTY: false, cwd: tmp, builtins: BUILTINS });
    const cli = { prompt: [], image: [], doSample: true, topK: 20, maxNewTokens: 6 };
    const { seed: _none, ...options } = decodingOptions(cli);
    const spec: GenerateBatchSpec = { modelDir: llama.dir, input: path.join(tmp, input), plugin: [], batchSize: 2, options, seed: 5 };
    const model = await loadModel(ctx, llama.dir, cli);
    try {
      const shard = await generateRange(model, spec, readBatchInput(spec.input), { start: 2, end: 4 });
      expect(shard.map((row) => row.text)).toEqual(whole.slice(2));
    } finally {
      model.dispose();
    }
    const oneOff = await run([
      'llama',
      '--prompt',
      prompts[2]!,
      '--prompt',
      prompts[3]!,
      ...flags.slice(0, 5),
      '--seed',
      String(deriveSeed(5, 1) >>> 0),
      '--json',
    ]);
    expect((JSON.parse(oneOff.stdout) as { texts: string[] }).texts).toEqual(whole.slice(2));
    // Another seed samples something else (the check above could not pass by accident of the model).
    const other = await run([
      'llama',
      '--input',
      input,
      '--output',
      'sample-7.jsonl',
      ...flags.slice(0, 5),
      '--seed',
      '7',
      '--batch-size',
      '2',
    ]);
    expect(other.stderr).toBe('');
    expect(readOut('sample-7.jsonl').map((row) => row.text)).not.toEqual(whole);
  });

  test('image rows (one image, several with their marks, a chat) are the one-off --image inputs of the same batch', async () => {
    const ctx = createCliContext({ isTTY: false, cwd: tmp, builtins: BUILTINS });
    const model = await loadModel(ctx, LLAVA, { prompt: [], image: [] });
    try {
      const rows = [
        { id: 'one', prompt: 'what shape is this?', images: ['img/a.svg'] },
        { id: 'two', prompt: '<image>first. <image>second. which is red?', images: ['img/b.svg', 'img/a.svg'] },
        { id: 'chat', messages: [{ role: 'user', content: 'what color?' }], images: ['img/c.svg'] },
      ];
      const spec: GenerateBatchSpec = {
        modelDir: LLAVA,
        input: path.join(tmp, write('images.jsonl', rows)),
        plugin: [],
        batchSize: 2,
        options: { maxNewTokens: 4 },
        seed: 0,
      };
      const batched = await generateRange(model, spec, readBatchInput(spec.input), { start: 0, end: 3 });
      /** What one-off `mmft generate` prepares for these flags, generated greedily. */
      const oneOff = async (o: Partial<GenerateCliOptions>) => {
        const prepared = await imageInputs(ctx, model, LLAVA, { prompt: [], image: [], ...o });
        try {
          return (await model.generate(prepared.inputs, { maxNewTokens: 4 })).texts;
        } finally {
          tf.dispose(prepared.owned);
        }
      };
      const first = await oneOff({ prompt: [rows[0]!.prompt!, rows[1]!.prompt!], image: ['img/a.svg', 'img/b.svg', 'img/a.svg'] });
      // A chat row without a mark: the image goes in front of the first user turn, as --chat --image does.
      const chat = await oneOff({ chat: true, prompt: ['what color?'], image: ['img/c.svg'] });
      expect(batched.map((row) => [row.id, row.text])).toEqual([
        ['one', first[0]],
        ['two', first[1]],
        ['chat', chat[0]],
      ]);
      expect(new Set(batched.map((row) => row.text)).size).toBeGreaterThan(1);
      const check = (rows: unknown[]) => () => {
        const file = path.join(tmp, write('marks.jsonl', rows));
        checkRowsForModel(model, { ...spec, input: file }, readBatchInput(file));
      };
      expect(check([{ prompt: 'two?', images: ['img/a.svg', 'img/b.svg'] }])).toThrow(
        /marks\.jsonl:1: prompt: 0 "<image>" marks for 2 images/,
      );
      expect(check([{ prompt: 'what?' }])).toThrow(/marks\.jsonl:1: images: .* reads an image with every prompt/);
    } finally {
      model.dispose();
    }
  });

  test('bad rows name file:line and the field', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ prompt: 'a' }, '{"prompt": '], /bad\.jsonl:2: not JSON/],
      [[{ id: 1 }], /bad\.jsonl:1: prompt: give exactly one of "prompt" and "messages"/],
      [[{ prompt: 'a', image: 'x.png' }], /bad\.jsonl:1: image: unknown field/],
      [[{ prompt: 'a', images: ['missing.png'] }], /bad\.jsonl:1: images\[0\]: no such file/],
      [[{ messages: [{ role: 'bot', content: 'x' }] }], /bad\.jsonl:1: messages\[0\]\.role: must be "system", "user" or "assistant"/],
    ];
    for (const [rows, message] of cases) {
      const r = await run(['llama', '--input', write('bad.jsonl', rows), '--output', 'bad-out.jsonl']);
      expect(r.stderr).toMatch(message);
    }
    fs.writeFileSync(path.join(tmp, 'x.png'), 'not used');
    const image = await run(['llama', '--input', write('img.jsonl', [{ prompt: 'a', images: ['x.png'] }]), '--output', 'img-out.jsonl']);
    expect(image.stderr).toMatch(/img\.jsonl:1: images: .* is a language model \(llama\) without a vision tower/);
    expect((await run(['llama', '--input', 'img.jsonl'])).stderr).toMatch(/--input needs --output/);
    expect((await run(['llama', '--input', 'img.jsonl', '--output', 'img.jsonl'])).stderr).toMatch(/is the --input file/);
    expect(fs.existsSync(path.join(tmp, 'bad-out.jsonl'))).toBe(false);
  });
});
