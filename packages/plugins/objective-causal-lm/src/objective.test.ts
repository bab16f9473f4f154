import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import {
  isMmftError,
  type Dataset,
  type Example,
  type MetricInput,
  type MetricInputKind,
  type ObjectiveContext,
  type ProviderResolver,
  type TextTokenizer,
  type VisionLanguageModel,
} from '@mmft/core';
import { causalLmLoss } from '@mmft/core/lm';
import { registerGradients } from '@mmft/core/nn';
import { describeObjective, llamaTokenizerFiles, tinyCausalLm } from '@mmft/core/testing';
import { causalLmProvider } from './plugin';
import { IGNORE_INDEX } from './encode';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const image = { kind: 'file', path: '/nonexistent.png' } as const;
const source = { file: 'data/train.jsonl', line: 7 };
const caption = (id: string, captions: string[]): Example => ({ id, task: 'caption', image, captions, source });
const vqa = (id: string, question: string, answer: string): Example => ({ id, task: 'vqa', image, question, answer, source });
const text = (id: string, t: string): Example => ({ id, task: 'text', text: t, source });
const dialogue = (id: string): Example => ({
  id,
  task: 'instruction',
  turns: [
    { role: 'user', content: '<image>\nWhat is red?' },
    { role: 'assistant', content: 'the circle' },
    { role: 'user', content: 'And blue?' },
    { role: 'assistant', content: 'the square' },
  ],
  source,
});

const datasetOf = (examples: Example[]): Dataset => ({
  task: examples[0]!.task,
  size: examples.length,
  async *iterate() {
    yield* examples;
  },
});

const noResolver = {} as ProviderResolver;
const contextOf = (model: VisionLanguageModel, evalData?: Example[]): ObjectiveContext => ({
  model,
  resolver: noResolver,
  recipe: {},
  seed: 5,
  outputDir: '/tmp',
  eval: evalData ? datasetOf(evalData) : undefined,
  batchSize: 2,
});

const create = (config: Record<string, unknown>, model: VisionLanguageModel, evalData?: Example[]) =>
  causalLmProvider.create(causalLmProvider.configSchema.parse(config), contextOf(model, evalData));

const bare = (tok: TextTokenizer, s: string) => tok.encode([s], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
const rows = (t: tf.Tensor) => t.arraySync() as number[][];

describe('plain template (GPT-2 tokenizer: no bos, eos <|endoftext|>)', () => {
  const lm = tinyCausalLm({ seed: 3 });
  const tok = lm.processor.tokenizer!;
  const eos = tok.specialTokenIds!.eos!;

  test('a caption trains " caption" + eos after the caption prompt; the prompt is -100', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const batch = await objective.collate([caption('c1', ['a red circle'])], { epoch: 0, positions: [0] });
    const prompt = bare(tok, 'a photo of');
    const full = [...bare(tok, 'a photo of a red circle'), eos];
    expect(rows(batch.inputs.inputIds!)[0]).toEqual(full);
    expect(rows(batch.inputs.labels!)[0]).toEqual(full.map((id, i) => (i < prompt.length ? IGNORE_INDEX : id)));
    expect(batch.count).toBe(full.length - prompt.length);
    batch.dispose();
  });

  test("with no prompts.lang, each example's language picks its default prompt (a Chinese caption gets 描述这张图片：)", async () => {
    const zh: Example = { ...caption('z1', ['红色的圆形']), lang: 'zh' };
    const promptOf = async (config: Record<string, unknown>) => {
      const objective = await create(config, lm);
      const batch = await objective.collate([zh], { epoch: 0, positions: [0] });
      const ids = rows(batch.inputs.inputIds!)[0]!;
      const labels = rows(batch.inputs.labels!)[0]!;
      batch.dispose();
      return ids.filter((_, i) => labels[i] === IGNORE_INDEX);
    };
    expect(await promptOf({ template: 'plain' })).toEqual(bare(tok, '描述这张图片：'));
    expect(await promptOf({ template: 'plain', prompts: { vqa: 'Q: {question} A:' } })).toEqual(bare(tok, '描述这张图片：'));
    expect(await promptOf({ template: 'plain', prompts: { lang: 'en' } })).toEqual(bare(tok, 'a photo of'));
  });

  test('VQA renders "Question: … Answer:" and trains the answer; the batch is right-padded with -100 labels', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const batch = await objective.collate([vqa('q1', 'what color is the circle?', 'red'), text('t1', 'a blue square')], {
      epoch: 0,
      positions: [0, 1],
    });
    const full = [...bare(tok, 'Question: what color is the circle? Answer: red'), eos];
    const prompt = bare(tok, 'Question: what color is the circle? Answer:');
    const plain = [...bare(tok, 'a blue square'), eos];
    const [ids, labels, mask] = [rows(batch.inputs.inputIds!), rows(batch.inputs.labels!), rows(batch.inputs.attentionMask!)];
    expect(ids[0]!.slice(0, full.length)).toEqual(full);
    expect(labels[0]!.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(labels[0]!.slice(prompt.length, full.length)).toEqual(full.slice(prompt.length));
    // plain text: every token is a label (the first is never predicted), padding is -100 with mask 0
    const width = Math.max(full.length, plain.length);
    expect(ids[1]).toEqual([...plain, ...new Array<number>(width - plain.length).fill(tok.specialTokenIds!.pad!)]);
    expect(labels[1]).toEqual([...plain, ...new Array<number>(width - plain.length).fill(IGNORE_INDEX)]);
    expect(mask[1]).toEqual([...plain.map(() => 1), ...new Array<number>(width - plain.length).fill(0)]);
    expect(batch.count).toBe(full.length - prompt.length + plain.length - 1);
    batch.dispose();
  });

  test('the loss is the sum over label tokens: causalLmLoss (a mean) × count', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const batch = await objective.collate([vqa('q1', 'what shape?', 'circle'), caption('c1', ['a blue square', 'a square'])], {
      epoch: 1,
      positions: [4, 5],
    });
    const sum = tf.tidy(() => objective.loss(batch).dataSync()[0]!);
    const mean = tf.tidy(
      () =>
        causalLmLoss(
          lm.forward({ inputIds: batch.inputs.inputIds, attentionMask: batch.inputs.attentionMask }).logits,
          batch.inputs.labels!,
        ).dataSync()[0]!,
    );
    expect(sum).toBeCloseTo(mean * batch.count, 3);
    batch.dispose();
  });

  test('multi-turn instruction in plain text: every assistant turn is trained and ends in eos; <image> is dropped', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const batch = await objective.collate([dialogue('d1')], { epoch: 0, positions: [0] });
    const ids = rows(batch.inputs.inputIds!)[0]!;
    const labels = rows(batch.inputs.labels!)[0]!;
    const first = bare(tok, 'USER: What is red? ASSISTANT: the circle');
    const second = bare(tok, 'USER: And blue? ASSISTANT: the square');
    expect(ids).toEqual([...first, eos, ...second, eos]);
    const trained = labels.map((l, i) => (l === IGNORE_INDEX ? null : ids[i]));
    const targets = [...bare(tok, ' the circle'), eos, ...bare(tok, ' the square'), eos];
    expect(trained.filter((x) => x !== null)).toEqual(targets);
    batch.dispose();
  });

  test('captions are drawn by (seed, epoch, position): the same position gives the same caption', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const example = caption('c1', ['a red circle', 'a blue square', 'a green triangle', 'one small circle']);
    const drawn = async (epoch: number, position: number) => {
      const batch = await objective.collate([example], { epoch, positions: [position] });
      const ids = rows(batch.inputs.inputIds!)[0]!;
      batch.dispose();
      return tok.decode(ids, { skipSpecialTokens: true });
    };
    expect(await drawn(2, 9)).toBe(await drawn(2, 9));
    const seen = new Set<string>();
    for (let p = 0; p < 24; p += 1) seen.add(await drawn(0, p));
    expect(seen.size).toBeGreaterThan(1);
  });

  test('truncation: max_length cuts the target; a prompt that fills max_length is an error naming the example', async () => {
    const objective = await create({ template: 'plain', max_length: 6 }, lm);
    const batch = await objective.collate([text('t1', 'a red circle and a blue square and a green triangle')], {
      epoch: 0,
      positions: [0],
    });
    expect(rows(batch.inputs.inputIds!)[0]).toHaveLength(6);
    batch.dispose();
    const tight = await create({ template: 'plain', max_length: 3 }, lm);
    await expect(tight.collate([vqa('q9', 'what color is the big circle?', 'red')], { epoch: 0, positions: [0] })).rejects.toThrow(
      /example "q9" \(data\/train\.jsonl:7\): nothing is left to train on after truncation to objective\.max_length 3/,
    );
  });

  test('train_on_prompt labels the prompt too', async () => {
    const objective = await create({ template: 'plain', train_on_prompt: true }, lm);
    const batch = await objective.collate([vqa('q1', 'what?', 'red')], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.labels!)[0]).toEqual(rows(batch.inputs.inputIds!)[0]);
    batch.dispose();
  });

  test('retrieval data and a model that is not a causal LM are clear errors', async () => {
    const objective = await create({ template: 'plain' }, lm);
    const retrieval: Example = { id: 'r1', task: 'retrieval', image, texts: ['a red circle'], source };
    await expect(objective.collate([retrieval], { epoch: 0, positions: [0] })).rejects.toThrow(
      /retrieval example; objective causal-lm trains on text targets/,
    );
    const clip = { modelType: 'clip', family: 'dual-encoder', processor: { towers: {} } } as unknown as VisionLanguageModel;
    const error = await create({}, clip).catch((e: unknown) => e);
    expect(isMmftError(error) && error.code).toBe('E_CONFIG');
    expect((error as Error).message).toMatch(/needs a causal language model; model is "clip" \(dual-encoder\)/);
  });

  test('evaluate: loss over label tokens, and generations as VQA and text metric inputs (what generate() gives)', async () => {
    const evalData = [vqa('q1', 'what color?', 'red'), caption('c1', ['a red circle', 'red circle']), text('t1', 'a blue square')];
    const objective = await create({ template: 'plain', generation: { max_new_tokens: 3 } }, lm, evalData);
    expect(objective.canEvaluate).toBe(true);
    const parts = [];
    for await (const part of objective.evaluate(datasetOf(evalData), { batchSize: 2, kinds: ['text', 'vqa'] })) parts.push(part);
    expect(parts).toHaveLength(2);
    const inputs: MetricInput[] = parts.flatMap((p) => p.inputs);
    expect(inputs.map((i) => i.kind)).toEqual(['vqa', 'text']);
    // The predictions are what generate() gives for the prompt alone, decoded without special tokens.
    const alone = async (prompt: number[]) => {
      const inputIds = tf.tensor2d([prompt], [1, prompt.length], 'int32');
      const result = await lm.generate({ inputIds, attentionMask: tf.onesLike(inputIds) }, { maxNewTokens: 3 });
      inputIds.dispose();
      return result.texts[0]!.trim();
    };
    expect(inputs[0]).toMatchObject({
      kind: 'vqa',
      id: 'q1',
      answers: ['red'],
      prediction: await alone(bare(tok, 'Question: what color? Answer:')),
    });
    expect(inputs[1]).toMatchObject({
      kind: 'text',
      id: 'c1',
      references: ['a red circle', 'red circle'],
      prediction: await alone(bare(tok, 'a photo of')),
    });
    const counts = parts.reduce((n, p) => n + p.count, 0);
    expect(counts).toBeGreaterThan(0);
    expect(parts.every((p) => Number.isFinite(p.lossSum))).toBe(true);
    const before = tf.memory().numTensors;
    for await (const _ of objective.evaluate(datasetOf(evalData), { batchSize: 2, kinds: ['vqa'] })) void _;
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('instruction examples feed instruction inputs when a metric reads them, else text inputs', () => {
  const lm = tinyCausalLm({ seed: 3 });
  const tok = lm.processor.tokenizer!;
  const zh: Example = {
    id: 'z1',
    task: 'instruction',
    lang: 'zh',
    image,
    turns: [
      { role: 'user', content: '红色的是什么？\n<image>' },
      { role: 'assistant', content: '圆形' },
    ],
    source,
  };
  const evalData = [dialogue('d1'), caption('c1', ['a red circle']), zh];
  const inputsFor = async (kinds: MetricInputKind[]) => {
    const objective = await create({ template: 'plain', generation: { max_new_tokens: 3 } }, lm, evalData);
    const parts = [];
    for await (const part of objective.evaluate(datasetOf(evalData), { batchSize: 3, kinds })) parts.push(part);
    return parts.flatMap((p) => p.inputs);
  };

  test('the objective declares it emits instruction inputs', async () => {
    expect((await create({ template: 'plain' }, lm)).emits).toEqual(['text', 'vqa', 'instruction']);
  });

  test('with an instruction metric: the last assistant turn is the reference, the last user turn (marks dropped) the instruction', async () => {
    const inputs = await inputsFor(['instruction', 'text']);
    expect(inputs.map((i) => i.kind)).toEqual(['instruction', 'text', 'instruction']);
    // The prediction is what generate() gives for every turn before the last assistant turn, in the plain template.
    const prompt = [
      ...bare(tok, 'USER: What is red? ASSISTANT: the circle'),
      tok.specialTokenIds!.eos!,
      ...bare(tok, ' USER: And blue? ASSISTANT:'),
    ];
    const inputIds = tf.tensor2d([prompt], [1, prompt.length], 'int32');
    const alone = await lm.generate({ inputIds, attentionMask: tf.onesLike(inputIds) }, { maxNewTokens: 3 });
    inputIds.dispose();
    expect(inputs[0]).toEqual({
      kind: 'instruction',
      id: 'd1',
      prediction: alone.texts[0]!.trim(),
      reference: 'the square',
      instruction: 'And blue?',
    });
    expect(inputs[1]).toMatchObject({ kind: 'text', id: 'c1', references: ['a red circle'] });
    expect(inputs[2]).toMatchObject({ kind: 'instruction', id: 'z1', reference: '圆形', instruction: '红色的是什么？', lang: 'zh' });
  });

  test('with only text metrics: instruction examples feed text inputs with the reference reply, as before', async () => {
    const inputs = await inputsFor(['text']);
    expect(inputs.map((i) => [i.kind, 'id' in i ? i.id : '', 'references' in i ? i.references : []])).toEqual([
      ['text', 'd1', ['the square']],
      ['text', 'c1', ['a red circle']],
      ['text', 'z1', ['圆形']],
    ]);
    // Only an instruction metric: captions generate nothing.
    expect((await inputsFor(['instruction'])).map((i) => i.kind)).toEqual(['instruction', 'instruction']);
  });
});

describe('chat template (Llama-2 tokenizer and template)', () => {
  const lm = tinyCausalLm({ tokenizerFiles: llamaTokenizerFiles(), seed: 4 });
  const tok = lm.processor.tokenizer as TextTokenizer & {
    applyChatTemplate(m: ReadonlyArray<{ role: string; content: string }>, o: { tokenize: true; addGenerationPrompt?: boolean }): number[];
  };

  test('auto picks the chat template; the tokens are the rendered conversation, labels on assistant turns only', async () => {
    const objective = await create({}, lm);
    const example = dialogue('d2');
    const batch = await objective.collate([example], { epoch: 0, positions: [0] });
    const ids = rows(batch.inputs.inputIds!)[0]!;
    const labels = rows(batch.inputs.labels!)[0]!;
    const messages = (example as Extract<Example, { task: 'instruction' }>).turns.map((t) => ({
      role: t.role,
      content: t.content.replace('<image>\n', ''),
    }));
    expect(ids).toEqual(tok.applyChatTemplate(messages, { tokenize: true }));
    // The first trained token follows exactly the rendering of turn 0 with the generation prompt.
    const firstPrompt = tok.applyChatTemplate(messages.slice(0, 1), { tokenize: true, addGenerationPrompt: true });
    expect(labels.slice(0, firstPrompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(labels[firstPrompt.length]).not.toBe(IGNORE_INDEX);
    const untilFirstAnswer = tok.applyChatTemplate(messages.slice(0, 2), { tokenize: true });
    const secondPrompt = tok.applyChatTemplate(messages.slice(0, 3), { tokenize: true, addGenerationPrompt: true });
    expect(labels.slice(untilFirstAnswer.length, secondPrompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(labels.slice(secondPrompt.length).every((l) => l !== IGNORE_INDEX)).toBe(true);
    batch.dispose();
  });

  test('template: chat without a chat_template is a configuration error', async () => {
    const gpt2 = tinyCausalLm();
    await expect(create({ template: 'chat' }, gpt2)).rejects.toThrow(/objective\.template is chat, but the tokenizer has no chat_template/);
  });

  test('plain text with a Llama tokenizer starts with bos, which is never a label', async () => {
    const objective = await create({}, lm);
    const batch = await objective.collate([text('t1', 'a red circle')], { epoch: 0, positions: [0] });
    const ids = rows(batch.inputs.inputIds!)[0]!;
    expect(ids[0]).toBe(tok.specialTokenIds!.bos);
    expect(ids).toEqual([...tok.encode(['a red circle'], { truncation: false }).inputIds[0]!, tok.specialTokenIds!.eos]);
    batch.dispose();
  });
});

describeObjective(causalLmProvider, {
  config: { template: 'plain', generation: { max_new_tokens: 2 } },
  context: async () => contextOf(tinyCausalLm({ seed: 7 }), [vqa('e1', 'what?', 'red'), caption('e2', ['a circle'])]),
  examples: [vqa('a', 'what color?', 'red'), caption('b', ['a red circle', 'a blue square']), text('c', 'a green triangle')],
});
