// `mmft handoff` on recipes/llava-shapes-instruct.yaml (a LLaVA LoRA recipe on the tiny shapes
// model) with a few examples per source: the bundle's files, rows and manifest, and the output rules.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { decodeImage } from '@mmft/image';
import { runCliForTest } from '../testing';
import { encodePng, crc32 } from '../handoff/png';

const ROOT = path.resolve(__dirname, '../../../..');
const RECIPE = 'recipes/llava-shapes-instruct.yaml';
const SMALL = ['0', '1', '2'].flatMap((i) => ['--set', `data.train.sources.${i}.n=2`, '--set', `data.eval.sources.${i}.n=1`]);

type Row = { messages: { role: string; content: string }[]; images: string[] };
const rows = (file: string): Row[] =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);

async function handoff(out: string, ...extra: string[]) {
  return runCliForTest(['handoff', RECIPE, '--to', 'llamafactory', '--out', out, '--gpus', '4', '--nodes', '2', ...SMALL, ...extra], {
    cwd: ROOT,
  });
}

describe('mmft handoff', () => {
  test('a LLaVA LoRA recipe becomes a LLaMA-Factory bundle: chats with one <image> per image, train.yaml, manifest, README', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-handoff-')), 'bundle');
    const run = await handoff(out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote LLaMA-Factory bundle ${out}`);
    expect(run.stdout).toContain('train.lr_groups.0: LLaMA-Factory has one learning rate');
    // Shapes captions come several per image: each becomes a row, and the bundle says so.
    expect(run.stdout).toMatch(/data: \d+ caption examples became \d+ rows \(one per caption\)/);
    expect(run.stdout).toContain(`bring the result back: mmft import ${path.join(out, 'output')} --out <dir>`);

    const train = rows(path.join(out, 'data/train.jsonl'));
    const evalRows = rows(path.join(out, 'data/eval.jsonl'));
    for (const row of [...train, ...evalRows]) {
      // sharegpt as LLaMA-Factory reads it: user/assistant alternate, the last turn is the assistant's.
      const roles = row.messages.map((m) => m.role);
      expect(roles.every((r, i) => r === (i % 2 === 0 ? 'user' : 'assistant'))).toBe(true);
      expect(roles.length % 2).toBe(0);
      const marks = row.messages.reduce((n, m) => n + m.content.split('<image>').length - 1, 0);
      expect(marks).toBe(row.images.length);
      for (const image of row.images) {
        expect(image).toMatch(/^images\/[0-9a-f]{20}\.png$/);
        const decoded = await decodeImage(path.join(out, 'data', image));
        expect([decoded.width, decoded.height]).toEqual([64, 64]);
      }
    }
    // The recipe's VQA prompt (prompts.vqa) is the user turn, as the objective renders it in chat mode.
    expect(train.some((r) => r.messages[0]!.content.endsWith('\nAnswer the question using a single word or phrase.'))).toBe(true);
    expect(train.some((r) => r.messages[0]!.content === '<image>\nDescribe the image briefly.')).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'mmft-handoff.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'mmft-handoff',
      target: { id: 'llamafactory', engine: 'LLaMA-Factory' },
      output: 'output',
      model: { localPath: path.join(ROOT, 'models/llava-shapes-base'), modelType: 'llava' },
      launch: { gpus: 4, nodes: 2, strategy: 'zero2', precision: 'bf16' },
      data: { trainRows: train.length, evalRows: evalRows.length },
    });
    const yaml = fs.readFileSync(path.join(out, 'train.yaml'), 'utf8');
    // batch 16 over 8 processes, LoRA on every language Linear, projector saved whole, vision frozen.
    for (const line of [
      'per_device_train_batch_size: 2',
      'gradient_accumulation_steps: 1',
      'lora_target: "all"',
      'additional_target: "multi_modal_projector"',
      'freeze_vision_tower: true',
      'template: "llava"',
    ]) {
      expect(yaml).toContain(`${line}\n`);
    }
    const readme = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(readme).toContain('| train.lr_groups.0 |');
    expect(readme).toContain('NNODES=2 NODE_RANK=<0..1>');
  });

  test('--copy-model puts the base model in the bundle; a rerun replaces the bundle; a foreign folder needs --force', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-handoff-'));
    const out = path.join(tmp, 'bundle');
    expect((await handoff(out, '--copy-model')).code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'model/config.json'))).toEqual(
      fs.readFileSync(path.join(ROOT, 'models/llava-shapes-base/config.json')),
    );
    expect(fs.readFileSync(path.join(out, 'train.yaml'), 'utf8')).toContain('model_name_or_path: "model"\n');
    expect((await handoff(out)).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'model'))).toBe(false);
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    const refused = await handoff(foreign);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`--out ${foreign} is not empty`);
    expect(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  });

  test('an unknown --to names the registered targets', async () => {
    const run = await runCliForTest(['handoff', RECIPE, '--to', 'megatron', '--out', path.join(os.tmpdir(), 'never-written'), ...SMALL], {
      cwd: ROOT,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--to megatron: no handoff target of that name; registered: .*llamafactory/);
    expect(run.stderr).toMatch(/swift/);
    expect(run.stderr).toMatch(/accelerate/);
  });
});

describe('PNG writer', () => {
  test('the PNG of decoded pixels decodes to the same pixels; CRC-32 of "123456789" is the check value', async () => {
    const width = 3;
    const height = 2;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 256);
    const decoded = await decodeImage(encodePng({ data, width, height }));
    expect(decoded).toEqual({ data, width, height });
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
