import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { isMmftError, type Example, type ImageTokens } from '@mmft/core';
import { llamaTokenizerFiles, tinyCausalLm } from '@mmft/core/testing';
import { causalLmConfigSchema } from './config';
import { IGNORE_INDEX, labelsOf } from './encode';
import { createEncoder } from './encoder';
import { formatPreview, previewExamples } from './preview';
import { causalLmProvider } from './plugin';
import { DEFAULT_SYSTEMS } from './templates';

// Golden files: regenerate with UPDATE_GOLDEN=1 and read the diff; each was checked by hand against
// llava/conversation.py's rendering (the file comment of templates.ts).
const GOLDEN = path.join(__dirname, '__golden__');
const golden = (name: string, text: string) => {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, text);
  expect(text).toBe(fs.readFileSync(file, 'utf8'));
};

const tok = tinyCausalLm({ tokenizerFiles: llamaTokenizerFiles(), seed: 1 }).processor.tokenizer!;
const bos = tok.specialTokenIds!.bos!;
const eos = tok.specialTokenIds!.eos!;
const bare = (s: string) => tok.encode([s], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
const image = { kind: 'file', path: '/nonexistent.png' } as const;
const source = { file: 'data/train.json', line: 3 };
const placeholder: ImageTokens = { tokenId: 5, count: 3, placement: 'placeholder' };

const en: Example = {
  id: 'en1',
  task: 'instruction',
  image,
  turns: [
    { role: 'user', content: 'What shape is red?\n<image>' },
    { role: 'assistant', content: 'A circle.' },
    { role: 'user', content: 'How many shapes?' },
    { role: 'assistant', content: 'Two.' },
  ],
  source,
};
type Turns = Extract<Example, { task: 'instruction' }>['turns'];
const zhTurns: Turns = [
  { role: 'user', content: '<image>\n红色的是什么形状？' },
  { role: 'assistant', content: '圆形。' },
];
const zh: Example = { id: 'zh1', task: 'instruction', lang: 'zh', image, turns: zhTurns, source };
const captionEn: Example = { id: 'c1', task: 'caption', image, captions: ['a red circle above a blue square'], source };

const config = (template: string, extra: Record<string, unknown> = {}) => causalLmConfigSchema.parse({ template, ...extra });
const render = (template: string, examples: Example[], extra: Record<string, unknown> = {}, tokens = placeholder, tokenizer = tok) =>
  previewExamples({ config: config(template, extra), tokenizer, tokens, seed: 0, maxLength: 512, trainOnPrompt: false }, examples)
    .flatMap((p) => formatPreview(p))
    .join('\n') + '\n';

describe('llava_v1 / vicuna_v1 (LLaVA SeparatorStyle.TWO)', () => {
  test('the ids are bos + the conversation.py rendering, image span in place of <image>, labels on " answer</s>" only', () => {
    const encoder = createEncoder({ config: config('vicuna_v1'), tokenizer: tok, tokens: placeholder, seed: 0 });
    const encoded = encoder.encode(en, 0, 0, true);
    const system = DEFAULT_SYSTEMS.vicuna_v1.en;
    // conversation.py: system + " " + "USER: <image>\nWhat shape is red? ASSISTANT: A circle.</s>USER: How many shapes? ASSISTANT: Two.</s>"
    // with the image mark moved to the front of its turn (preprocess_multimodal), split there as tokenizer_image_token does.
    const first = `${system} USER: `;
    const round1 = '\nWhat shape is red? ASSISTANT: A circle.';
    const round2 = 'USER: How many shapes? ASSISTANT: Two.';
    const expected = [bos, ...bare(first), 5, 5, 5, ...bare(round1), eos, ...bare(round2), eos];
    expect(encoded.ids).toEqual(expected);
    const { labels } = labelsOf(encoded, 512, false);
    const trained = encoded.ids.filter((_, i) => labels[i] !== IGNORE_INDEX);
    const answer1 = bare(round1).slice(bare('\nWhat shape is red? ASSISTANT:').length);
    const answer2 = bare(round2).slice(bare('USER: How many shapes? ASSISTANT:').length);
    expect(trained).toEqual([...answer1, eos, ...answer2, eos]);
    expect(tok.decode(answer1)).toBe('A circle.');
  });

  test("a VQA user turn is the recipe's prompts.vqa with {question} when set (LLaVA-1.5 short answers), else the bare question", () => {
    const question: Example = { id: 'q1', task: 'vqa', image, question: 'What color is the circle?', answer: 'Red', source };
    const vqaPrompt = '{question}\nAnswer the question using a single word or phrase.';
    const system = DEFAULT_SYSTEMS.llava_v1.en;
    const set = createEncoder({
      config: config('llava_v1', { prompts: { vqa: vqaPrompt } }),
      tokenizer: tok,
      tokens: placeholder,
      seed: 0,
    });
    const encoded = set.encode(question, 0, 0, true);
    // model_vqa_loader.py: "<image>\n" + question + suffix as the USER turn of conv_templates["llava_v1"].
    const user = '\nWhat color is the circle?\nAnswer the question using a single word or phrase. ASSISTANT: Red';
    expect(encoded.ids).toEqual([bos, ...bare(`${system} USER: `), 5, 5, 5, ...bare(user), eos]);
    const { labels } = labelsOf(encoded, 512, false);
    const answer = bare(user).slice(bare(user.replace(/ Red$/, '')).length);
    expect(encoded.ids.filter((_, i) => labels[i] !== IGNORE_INDEX)).toEqual([...answer, eos]);
    expect(tok.decode(answer)).toBe('Red');
    // Unset (or only prompts.lang set): the default "Question: … Answer:" stays out of the chat turn.
    for (const extra of [{}, { prompts: { lang: 'en' } }]) {
      const bareQuestion = createEncoder({ config: config('llava_v1', extra), tokenizer: tok, tokens: placeholder, seed: 0 });
      expect(bareQuestion.encode(question, 0, 0, true).ids).toEqual([
        bos,
        ...bare(`${system} USER: `),
        5,
        5,
        5,
        ...bare('\nWhat color is the circle? ASSISTANT: Red'),
        eos,
      ]);
    }
    // Plain mode renders prompts.vqa once (not twice).
    const plain = createEncoder({ config: config('plain', { prompts: { vqa: vqaPrompt } }), tokenizer: tok, seed: 0 });
    expect(tok.decode(plain.encode(question, 0, 0, false).ids, { skipSpecialTokens: true })).toContain(
      'What color is the circle?\nAnswer the question using a single word or phrase. Red',
    );
  });

  test('golden: English, both system prompts', () => {
    golden('llava_v1.en.txt', render('llava_v1', [en, captionEn]));
    golden('vicuna_v1.en.txt', render('vicuna_v1', [en]));
  });

  test('golden: Chinese system prompt, from the example language and from system_lang', () => {
    const out = render('llava_v1', [zh]);
    expect(out).toContain(DEFAULT_SYSTEMS.llava_v1.zh);
    golden('llava_v1.zh.txt', out);
    expect(render('llava_v1', [en], { system_lang: 'zh' })).toContain(DEFAULT_SYSTEMS.llava_v1.zh);
    expect(render('llava_v1', [zh], { system_lang: 'en' })).toContain(DEFAULT_SYSTEMS.llava_v1.en);
  });

  test("default_system replaces the default; the conversation's own system turn wins over both", () => {
    expect(render('vicuna_v1', [zh], { default_system: '你是助手。' })).toContain('⟦<s> 你是助手。 USER: ⟧');
    const withSystem: Example = { ...zh, turns: [{ role: 'system', content: 'Be brief.' }, ...zhTurns] };
    expect(render('vicuna_v1', [withSystem], { default_system: 'x' })).toContain('⟦<s> Be brief. USER: ⟧');
  });

  test('a system turn after the first is an error naming the example', () => {
    const bad: Example = { ...zh, turns: [...zhTurns, { role: 'system', content: 'late' }] };
    try {
      render('llava_v1', [bad]);
      throw new Error('no error');
    } catch (e) {
      expect(isMmftError(e) && e.code === 'E_DATA').toBe(true);
      expect(String(e)).toMatch(/example "zh1" \(data\/train\.json:3\): turn 2 is a system turn/);
    }
  });
});

describe('llava_plain (LLaVA stage 1)', () => {
  test('bos, the image span, then "caption\\n" all trained; the prompt text is dropped; no eos', () => {
    const encoder = createEncoder({ config: config('llava_plain'), tokenizer: tok, tokens: placeholder, seed: 0 });
    const encoded = encoder.encode(captionEn, 0, 0, true);
    const text = bare('a red circle above a blue square\n');
    expect(encoded.ids).toEqual([bos, 5, 5, 5, ...text]);
    expect(labelsOf(encoded, 512, false).labels).toEqual([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, ...text]);
    golden('llava_plain.en.txt', render('llava_plain', [captionEn, { ...zh, id: 'zh2', turns: zhTurns }]));
  });

  test('more than one round is an error naming the example', () => {
    expect(() => render('llava_plain', [en])).toThrow(
      /example "en1" .*llava_plain takes one user turn and one assistant turn, got \[user,assistant,user,assistant\]/,
    );
  });
});

describe('chatml', () => {
  test('golden English and Chinese; "{answer}<|im_end|>" is trained, the newline after it and the role headers are not', () => {
    const out = render('chatml', [en, zh]);
    golden('chatml.en-zh.txt', out);
    const encoder = createEncoder({ config: config('chatml'), tokenizer: tok, tokens: undefined, seed: 0 });
    const encoded = encoder.encode(zh, 0, 0, false);
    const { labels } = labelsOf(encoded, 512, false);
    const whole =
      '<|im_start|>system\n你是一个乐于助人的助手。<|im_end|>\n<|im_start|>user\n红色的是什么形状？<|im_end|>\n<|im_start|>assistant\n圆形。<|im_end|>';
    expect(encoded.ids).toEqual([bos, ...bare(whole)]);
    const trained = encoded.ids.filter((_, i) => labels[i] !== IGNORE_INDEX);
    expect(tok.decode(trained)).toBe('圆形。<|im_end|>');
  });
});

describe('preview', () => {
  test('counts add up and cut tokens are counted', () => {
    const full = createEncoder({ config: config('vicuna_v1'), tokenizer: tok, tokens: placeholder, seed: 0 }).encode(en, 0, 0, true);
    const maxLength = full.ids.length - 5;
    const [p] = previewExamples(
      { config: config('vicuna_v1'), tokenizer: tok, tokens: placeholder, seed: 0, maxLength, trainOnPrompt: false },
      [en],
    );
    const { labels } = labelsOf(full, maxLength, false);
    expect(p!.counts.total).toBe(maxLength);
    expect(p!.counts.cut).toBe(5);
    expect(p!.counts.image).toBe(3);
    expect(p!.counts.trained).toBe(labels.filter((l) => l !== IGNORE_INDEX).length);
    expect(p!.counts.trained + p!.counts.masked + p!.counts.image).toBe(maxLength);
    expect(formatPreview(p!)[0]).toMatch(/, 5 cut by max_length\)$/);
  });

  test('rows the objective would refuse are flagged: nothing left to train, an image span cut', () => {
    const setup = (maxLength: number) => ({
      config: config('vicuna_v1'),
      tokenizer: tok,
      tokens: placeholder,
      seed: 0,
      maxLength,
      trainOnPrompt: false,
    });
    const full = createEncoder(setup(512)).encode(en, 0, 0, true);
    const span = full.spans[0]!;
    const [cut] = previewExamples(setup(span.start + 1), [en]);
    expect(cut!.problem).toMatch(/image span does not fit max_length/);
    expect(formatPreview(cut!).at(-1)).toMatch(/^!! its image span does not fit max_length \d+/);
    const [nothing] = previewExamples(setup(full.target.indexOf(true)), [en]);
    expect(nothing!.counts.trained).toBe(0);
    expect(nothing!.problem).toMatch(/nothing is left to train on after truncation to max_length/);
    const [ok] = previewExamples(setup(512), [en]);
    expect(ok!.problem).toBeUndefined();
  });

  test('the checkpoint chat_template and plain go through the same preview (text without an image: no span)', () => {
    const textOnly = { ...en, image: undefined } as Example;
    const chat = render('chat', [textOnly]);
    expect(chat).toContain('⟦<s> [INST] What shape is red? [/INST]⟧ A circle. </s>');
    expect(chat).not.toContain('<image');
    const plain = render('plain', [captionEn], {}, { tokenId: 5, count: 2, placement: 'prefix' });
    expect(plain.split('\n')[1]).toBe('<image×2>⟦<s> a photo of⟧ a red circle above a blue square</s>');
  });
});

describe('the objective trains what the preview shows', () => {
  test('collate under llava_v1 gives the encoder rows; the generation prompt ends at the last "ASSISTANT:"', async () => {
    const lm = tinyCausalLm({ tokenizerFiles: llamaTokenizerFiles(), seed: 2 });
    const context = { model: lm, resolver: {} as never, recipe: {}, seed: 0, outputDir: '/tmp', batchSize: 1 };
    const objective = await causalLmProvider.create(causalLmProvider.configSchema.parse({ template: 'llava_v1' }), context);
    const textOnly = { ...en, image: undefined } as Example;
    const batch = await objective.collate([textOnly], { epoch: 0, positions: [0] });
    const encoded = createEncoder({ config: config('llava_v1'), tokenizer: lm.processor.tokenizer!, seed: 0 }).encode(
      textOnly,
      0,
      0,
      false,
    );
    const { ids, labels } = labelsOf(encoded, 512, false);
    expect((batch.inputs.inputIds!.arraySync() as number[][])[0]).toEqual(ids);
    expect((batch.inputs.labels!.arraySync() as number[][])[0]).toEqual(labels);
    expect(lm.processor.tokenizer!.decode(ids.slice(0, encoded.lastTargetStart))).toMatch(/USER: How many shapes\? ASSISTANT:$/);
    batch.dispose();
    objective.dispose();
    lm.dispose();
  });
});
