// `mmft generate` on a tiny Llama folder: the printed tokens are the plain-JS reference's greedy
// argmax loop (no cache, full recomputation) for a left-padded batch; --chat renders the chat
// template once (one <s>); sampling repeats by --seed; models that do not generate and --image on
// a language model are clear errors.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors } from '@mmft/core';
import { HfTokenizer, tokenizerFromFiles } from '@mmft/core/hf';
import { dequantize4bit, quantizeNf4 } from '@mmft/core/quant';
import { createTinyClipCheckpoint } from '@mmft/arch-clip';
import { createTinyLlamaCheckpoint, refGreedy, type TinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { generateCommand } from './generate';
import { runCommands } from './fixtures.test-helper';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/peft-lora'];
let tmp: string;
let llama: TinyLlamaCheckpoint;
let tokenizer: HfTokenizer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-generate-'));
  llama = await createTinyLlamaCheckpoint(path.join(tmp, 'llama'), {
    seed: 11,
    config: { initializer_range: 0.3 },
    tokenizer: { padToken: '<unk>' },
  });
  tokenizer = tokenizerFromFiles(llama.tokenizerFiles)! as HfTokenizer;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => runCommands((ctx) => [generateCommand(ctx)], ['generate', ...argv], { cwd: tmp, builtins: BUILTINS });

/** The reference weights as nested arrays, by state-dict name. */
async function weights(): Promise<Map<string, unknown>> {
  const { tensors } = await readSafetensors(path.join(llama.dir, 'model.safetensors'));
  return new Map([...tensors].map(([name, t]) => [name, tf.tidy(() => tf.tensor(t.data as Float32Array, t.shape, 'float32').arraySync())]));
}

/** Prompt rows left-padded with <unk> (id 0), as the command pads them. */
function leftPadded(texts: string[], addSpecialTokens = true): { inputIds: number[][]; attentionMask: number[][] } {
  const rows = texts.map((t) => tokenizer.encode([t], { truncation: false, addSpecialTokens }).inputIds[0]!);
  const width = Math.max(...rows.map((r) => r.length));
  return {
    inputIds: rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r]),
    attentionMask: rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]),
  };
}

describe('mmft generate', () => {
  test('greedy tokens of a left-padded batch are the reference argmax loop; texts are their decoding', async () => {
    const prompts = ['a red circle', 'how many stars are there?'];
    const r = await run(['llama', '--prompt', prompts[0]!, '--prompt', prompts[1]!, '--max-new-tokens', '5', '--json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { sequences: number[][]; texts: string[] };
    const eos = tokenizer.specialTokenIds.eos!;
    const expected = refGreedy(await weights(), llama.config, leftPadded(prompts), { maxNewTokens: 5, eos: [eos], pad: 0 }).map((row) => {
      const end = row.indexOf(eos);
      return end < 0 ? row : row.slice(0, end + 1);
    });
    expect(out.sequences).toEqual(expected);
    expect(out.texts).toEqual(expected.map((row) => tokenizer.decode(row, { skipSpecialTokens: true })));
    const plain = await run(['llama', '--prompt', prompts[0]!, '--max-new-tokens', '5']);
    expect(plain.stdout).toBe(`${out.texts[0]}\n`);
  });

  test('--load-in-4bit: greedy tokens are the reference loop on the NF4 (double-quantised) weights of every Linear but lm_head', async () => {
    const prompts = ['a red circle', 'how many stars are there?'];
    const r = await run(['llama', '--load-in-4bit', '--prompt', prompts[0]!, '--prompt', prompts[1]!, '--max-new-tokens', '6', '--json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { sequences: number[][] };
    const rounded = new Map<string, unknown>();
    for (const [name, w] of await weights()) {
      if (!name.endsWith('_proj.weight')) {
        rounded.set(name, w);
        continue;
      }
      const rows = w as number[][];
      const q = quantizeNf4(Float32Array.from(rows.flat()), { doubleQuant: true, shape: [rows.length, rows[0]!.length] });
      const flat = Array.from(dequantize4bit(q));
      rounded.set(
        name,
        rows.map((row, i) => flat.slice(i * row.length, (i + 1) * row.length)),
      );
    }
    const eos = tokenizer.specialTokenIds.eos!;
    const expected = refGreedy(rounded, llama.config, leftPadded(prompts), { maxNewTokens: 6, eos: [eos], pad: 0 }).map((row) => {
      const end = row.indexOf(eos);
      return end < 0 ? row : row.slice(0, end + 1);
    });
    expect(out.sequences).toEqual(expected);
    // The rounding changes the answer here, so the float32 weights could not pass for the 4-bit ones.
    const float32 = refGreedy(await weights(), llama.config, leftPadded(prompts), { maxNewTokens: 6, eos: [eos], pad: 0 });
    expect(float32).not.toEqual(refGreedy(rounded, llama.config, leftPadded(prompts), { maxNewTokens: 6, eos: [eos], pad: 0 }));
  });

  test('--chat renders the chat template with the generation prompt and encodes it without a second <s>', async () => {
    const r = await run(['llama', '--chat', '--prompt', 'what is red?', '--max-new-tokens', '3', '--json']);
    const out = JSON.parse(r.stdout) as { sequences: number[][] };
    const text = tokenizer.applyChatTemplate([{ role: 'user', content: 'what is red?' }], { addGenerationPrompt: true });
    expect(text.startsWith('<s>[INST]')).toBe(true);
    const prompt = leftPadded([text], false);
    expect(prompt.inputIds[0]!.filter((id) => id === tokenizer.specialTokenIds.bos)).toHaveLength(1);
    const expected = refGreedy(await weights(), llama.config, prompt, { maxNewTokens: 3, eos: [tokenizer.specialTokenIds.eos!], pad: 0 });
    expect(out.sequences[0]).toEqual(expected[0]!.slice(0, out.sequences[0]!.length));
  });

  test('sampling repeats with --seed; beams return scored sequences per prompt', async () => {
    const args = ['llama', '--prompt', 'a blue square', '--do-sample', '--top-k', '20', '--max-new-tokens', '6', '--json'];
    const a = JSON.parse((await run([...args, '--seed', '4'])).stdout) as { sequences: number[][] };
    const b = JSON.parse((await run([...args, '--seed', '4'])).stdout) as { sequences: number[][] };
    expect(b.sequences).toEqual(a.sequences);
    const beams = JSON.parse(
      (await run(['llama', '--prompt', 'a', '--num-beams', '3', '--num-return-sequences', '2', '--max-new-tokens', '3', '--json'])).stdout,
    ) as {
      sequences: number[][];
      sequencesScores: number[];
    };
    expect(beams.sequences).toHaveLength(2);
    expect(beams.sequencesScores[0]!).toBeGreaterThanOrEqual(beams.sequencesScores[1]!);
  });

  test('a dual encoder, --image on a language model, --chat without a template and no prompt are clear errors', async () => {
    const clip = (await createTinyClipCheckpoint(path.join(tmp, 'clip'), { seed: 1 })).dir;
    expect((await run([clip, '--prompt', 'x'])).stderr).toMatch(/model_type "clip" \(dual-encoder\) does not generate text/);
    expect((await run(['llama', '--prompt', 'x', '--image', 'a.png'])).stderr).toMatch(
      /is a language model \(llama\) without a vision tower/,
    );
    expect((await run(['llama'])).stderr).toMatch(/give at least one --prompt/);
    const bare = await createTinyLlamaCheckpoint(path.join(tmp, 'no-template'), { seed: 2, tokenizer: { chatTemplate: null } });
    const noTemplate = await run([bare.dir, '--chat', '--prompt', 'x']);
    expect(noTemplate.stderr).toMatch(/--chat needs a chat_template in tokenizer_config\.json/);
  });
});
