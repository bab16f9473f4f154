import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { TRAIN_PY } from './write';

// assets/train.py's chat encoding, run through test-fixtures/train_py_driver.py (stub torch / transformers and a
// toy tokenizer: one id per character, ": " one token 500, bos 1, eos 2; image token 9999). The expected ids are
// written by hand from mmft's templates (packages/plugins/objective-causal-lm/src/templates.ts) and its run
// encoding (encode.ts: a run of text is re-encoded whole, so ": " across a prompt/answer boundary is one token
// that belongs to the answer).
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const DRIVER = path.join(__dirname, '..', 'test-fixtures', 'train_py_driver.py');
const codes = (text: string) => [...text].map((c) => c.codePointAt(0)!);
const IMG = 9999;
const masked = (n: number) => new Array<number>(n).fill(-100);

interface Encoded {
  input_ids: number[];
  labels: number[];
}

function encode(rows: unknown[], config: Record<string, unknown>, imageCount = 3): Encoded[] {
  const job = {
    rows,
    config: { max_length: 256, train_on_prompt: false, data: { train: 'data/train.jsonl' }, ...config },
    image_count: imageCount,
  };
  const out = execFileSync(python, [DRIVER, TRAIN_PY], {
    input: JSON.stringify(job),
    stdio: 'pipe',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return JSON.parse(out.toString()) as Encoded[];
}

const vqa = {
  messages: [
    { role: 'user', content: '<image>\nWhat colour?' },
    { role: 'assistant', content: 'red' },
  ],
  images: [],
};

describe('train.py encodes chats as mmft does', () => {
  test('llava_v1 without a system prompt: bos, " USER: ", the image span, the answer and eos trained', () => {
    const [row] = encode([vqa], { template: 'llava_v1', default_system: '' });
    const prompt = [1, 32, ...codes('USER'), 500, IMG, IMG, IMG, ...codes('\nWhat colour? ASSISTANT')];
    const answer = [500, ...codes('red'), 2];
    expect(row!.input_ids).toEqual([...prompt, ...answer]);
    expect(row!.labels).toEqual([...masked(prompt.length), ...answer]);
  });

  test('llava_v1 default system, two rounds; train_on_prompt labels all but the image span', () => {
    const chat = {
      messages: [
        { role: 'user', content: 'Hi <image>' },
        { role: 'assistant', content: 'yes' },
        { role: 'user', content: 'Count' },
        { role: 'assistant', content: '2' },
      ],
    };
    const system =
      "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions.";
    const [row] = encode([chat], { template: 'llava_v1' });
    // The mark moves to the front of its turn ("<image>\nHi"), as LLaVA's preprocess_multimodal does.
    const first = [1, ...codes(`${system} USER`), 500, IMG, IMG, IMG, ...codes('\nHi ASSISTANT')];
    const second = codes('USER');
    const expected = [...first, 500, ...codes('yes'), 2, ...second, 500, ...codes('Count ASSISTANT'), 500, 50, 2];
    expect(row!.input_ids).toEqual(expected);
    expect(row!.labels).toEqual([
      ...masked(first.length),
      500,
      ...codes('yes'),
      2,
      ...masked(second.length + 1 + 'Count ASSISTANT'.length),
      500,
      50,
      2,
    ]);
    const [all] = encode([chat], { template: 'llava_v1', train_on_prompt: true });
    expect(all!.labels).toEqual(expected.map((id) => (id === IMG ? -100 : id)));
  });

  test('chatml on a text model drops the image mark; the answer and <|im_end|> are trained', () => {
    const [row] = encode([vqa], { template: 'chatml', default_system: 'S' }, 0);
    const prompt = codes('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat colour?<|im_end|>\n<|im_start|>assistant\n');
    expect(row!.input_ids).toEqual([1, ...prompt, ...codes('red<|im_end|>')]);
    expect(row!.labels).toEqual([...masked(1 + prompt.length), ...codes('red<|im_end|>')]);
  });

  test("chat: the tokenizer's template, each assistant turn the difference to its generation prompt, no bos added", () => {
    const [row] = encode([vqa], { template: 'chat' }, 0);
    const prompt = codes('[user]<image>\nWhat colour?[/][assistant]');
    // The toy template repeats the role on the full render: "[assistant]red[/]" extends "[assistant]" by "red[/]".
    expect(row!.input_ids).toEqual([...prompt, ...codes('red[/]')]);
    expect(row!.labels).toEqual([...masked(prompt.length), ...codes('red[/]')]);
  });

  test('max_length truncates; cutting an image span fails naming the row', () => {
    const [row] = encode([vqa], { template: 'llava_v1', default_system: '', max_length: 12 });
    expect(row!.input_ids).toEqual([1, 32, ...codes('USER'), 500, IMG, IMG, IMG, 10, 87]);
    expect(() => encode([vqa], { template: 'llava_v1', default_system: '', max_length: 8 })).toThrow(
      /row 0: max_length 8 cuts an image span/,
    );
  });
});

describe('train.py picks LoRA targets as mmft does, in either transformers layout', () => {
  // A LLaVA with one layer per part: transformers >= 4.52 names, and the older ones mmft uses.
  const NEW = [
    'model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj',
    'model.multi_modal_projector.linear_1',
    'model.language_model.layers.0.self_attn.q_proj',
    'model.language_model.layers.0.mlp.down_proj',
    'lm_head',
  ];
  const OLD = [
    'vision_tower.vision_model.encoder.layers.0.self_attn.q_proj',
    'multi_modal_projector.linear_1',
    'language_model.model.layers.0.self_attn.q_proj',
    'language_model.model.layers.0.mlp.down_proj',
    'language_model.lm_head',
  ];
  const targets = (names: string[], output: string, peft: Record<string, unknown>): string[] => {
    const job = {
      mode: 'targets',
      modules: [['model', false], ...names.map((n) => [n, true]), ['model.language_model.norm', false]],
      output,
      config: { model: { kind: 'llava' }, peft: { modules_to_save: [], ...peft } },
    };
    return JSON.parse(execFileSync(python, [DRIVER, TRAIN_PY], { input: JSON.stringify(job), stdio: 'pipe' }).toString()) as string[];
  };

  test('the LLaVA recipe: all-linear minus the vision tower, the projector saved whole, never lm_head', () => {
    const peft = { target_modules: 'all-linear', exclude_modules: 'vision_tower\\..*', modules_to_save: ['multi_modal_projector'] };
    expect(targets(NEW, 'lm_head', peft)).toEqual([NEW[2], NEW[3]]);
    expect(targets(OLD, 'language_model.lm_head', peft)).toEqual([OLD[2], OLD[3]]);
  });

  test('name lists match a name or a suffix; a regex matches the whole mmft name', () => {
    expect(targets(NEW, 'lm_head', { target_modules: ['q_proj'] })).toEqual([NEW[0], NEW[2]]);
    expect(
      targets(NEW, 'lm_head', { target_modules: ['q_proj'], exclude_modules: ['vision_model.encoder.layers.0.self_attn.q_proj'] }),
    ).toEqual([NEW[2]]);
    expect(
      targets(NEW, 'lm_head', { target_modules: 'language_model\\.model\\.layers\\.\\d+\\.(self_attn\\.q_proj|mlp\\.down_proj)' }),
    ).toEqual([NEW[2], NEW[3]]);
    expect(() => targets(NEW, 'lm_head', { target_modules: ['k_proj'] })).toThrow(/no Linear layer matches peft.target_modules/);
  });
});
