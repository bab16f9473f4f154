// The embedded shapes language models (models/llama-shapes-base, models/opt-shapes-base, trained by
// recipes/{llama,opt}-shapes-pretrain.yaml): their folders agree with their tokenizers, held-out
// perplexity is far below the unigram baseline of the same tokens, and greedy answers to held-out
// questions are words of the shapes world, in English and Chinese, through the API and `mmft generate`.
import 'reflect-metadata';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, isCausalLanguageModel, type CausalLanguageModel, type TextTokenizer } from '@mmft/core';
import { AutoModel } from '@mmft/core/hf';
import { runCliForTest } from '@mmft/cli/testing';
import { corpusUnits, shapesConfigSchema, unigramBaseline, type CorpusUnit } from '@mmft/data-shapes';

const ROOT = path.join(__dirname, '..', '..');
const MODELS = { llama: 'models/llama-shapes-base', opt: 'models/opt-shapes-base' } as const;
type Kind = keyof typeof MODELS;
/** The pretraining recipes' held-out corpus (data.eval: n 1000, split eval) and a train corpus for word counts. */
const EVAL_UNITS = corpusUnits(shapesConfigSchema.parse({ task: 'text', n: 1000, lang: 'both', split: 'eval' }));
const TRAIN_UNITS = corpusUnits(shapesConfigSchema.parse({ task: 'text', n: 1000, lang: 'both', split: 'train' }));
/** Where a question-answer text's answer starts (BLIP-2's prompt in @mmft/text's two languages). */
const ANSWER_MARK = { en: 'Answer: ', zh: '答案：' } as const;

const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;
const answerOf = (u: CorpusUnit) => u.text.slice(u.text.lastIndexOf(ANSWER_MARK[u.lang]) + ANSWER_MARK[u.lang].length);
const promptOf = (u: CorpusUnit) => u.text.slice(0, u.text.lastIndexOf(ANSWER_MARK[u.lang]) + ANSWER_MARK[u.lang].trimEnd().length);
/** Every answer a training question has: the answer vocabulary of the shapes world. */
const ANSWERS = new Set(TRAIN_UNITS.filter((u) => u.kind === 'qa').map(answerOf));

/** Token ids the causal-LM objective predicts for a text: its tokens and eos (not the bos it is conditioned on). */
function predictedTokens(tokenizer: TextTokenizer, text: string): number[] {
  return [...tokenizer.encode([text], { addSpecialTokens: false, truncation: false }).inputIds[0]!, tokenizer.specialTokenIds!.eos!];
}

/** Mean next-token loss over `texts` as the objective trains them: bos + text + eos, labels on text and eos. */
function heldOutLoss(model: CausalLanguageModel, texts: readonly string[]): { loss: number; tokens: number } {
  const tokenizer = model.processor.tokenizer!;
  const ids = tokenizer.specialTokenIds!;
  const rows = texts.map((t) => [ids.bos!, ...predictedTokens(tokenizer, t)]);
  const width = Math.max(...rows.map((r) => r.length));
  const pad = (r: number[], fill: number) => [...r, ...new Array<number>(width - r.length).fill(fill)];
  const shape: [number, number] = [rows.length, width];
  const loss = tf.tidy(() => {
    const out = model.forward({
      inputIds: tf.tensor2d(
        rows.flatMap((r) => pad(r, ids.pad!)),
        shape,
        'int32',
      ),
      attentionMask: tf.tensor2d(
        rows.flatMap((r) =>
          pad(
            r.map(() => 1),
            0,
          ),
        ),
        shape,
        'int32',
      ),
      labels: tf.tensor2d(
        rows.flatMap((r) => pad(r, -100)),
        shape,
        'int32',
      ),
    });
    return out.loss!;
  });
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return { loss: value, tokens: rows.reduce((n, r) => n + r.length - 1, 0) };
}

describe.each(Object.keys(MODELS) as Kind[])('the embedded %s', (kind) => {
  const dir = path.join(ROOT, MODELS[kind]);
  let model: CausalLanguageModel;

  beforeAll(async () => {
    await ensureBackend();
    const loaded = await AutoModel.fromPretrained(dir, { searchFrom: [ROOT] });
    if (!isCausalLanguageModel(loaded)) throw new Error(`${dir} is not a causal language model`);
    model = loaded;
  });

  test('its folder is a Hugging Face checkpoint whose config, generation config and tokenizer agree', () => {
    const config = readJson(`${MODELS[kind]}/config.json`);
    const generation = readJson(`${MODELS[kind]}/generation_config.json`);
    const tokenizer = model.processor.tokenizer!;
    const ids = tokenizer.specialTokenIds!;
    expect(config.model_type).toBe(kind);
    expect(config.vocab_size).toBe(tokenizer.vocabSize);
    expect([config.bos_token_id, config.eos_token_id, config.pad_token_id]).toEqual([ids.bos, ids.eos, ids.pad]);
    expect([generation.bos_token_id, generation.eos_token_id, generation.pad_token_id]).toEqual([ids.bos, ids.eos, ids.pad]);
    // the tokenizer files are the ones scripts/build-shapes-lm-tokenizers.mjs writes, unchanged by training
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      const built = fs.readFileSync(path.join(ROOT, `models/shapes-lm-tokenizer-${kind}`, name));
      expect(fs.readFileSync(path.join(dir, name)).equals(built)).toBe(true);
    }
    expect(fs.statSync(path.join(dir, 'model.safetensors')).size).toBeLessThan(6 * 1024 * 1024);
    // Chinese is in the vocabulary: one token per character (Llama adds a leading "▁"), where byte
    // fallback would take three per character
    const zh = '红色的圆形在三角形的左边。';
    const zhIds = tokenizer.encode([zh], { addSpecialTokens: false }).inputIds[0]!;
    expect(zhIds.length).toBeLessThanOrEqual([...zh].length + 1);
    expect(tokenizer.decode(zhIds)).toBe(zh);
  });

  test('held-out perplexity is far below the unigram baseline of the same tokens', () => {
    const tokenizer = model.processor.tokenizer!;
    const slice = [...EVAL_UNITS.filter((u) => u.lang === 'en').slice(0, 12), ...EVAL_UNITS.filter((u) => u.lang === 'zh').slice(0, 12)];
    const tokens = (text: string) => predictedTokens(tokenizer, text).map(String);
    const baseline = unigramBaseline(
      TRAIN_UNITS.map((u) => u.text),
      slice.map((u) => u.text),
      tokens,
    );
    const { loss, tokens: count } = heldOutLoss(
      model,
      slice.map((u) => u.text),
    );
    expect(count).toBe(baseline.evalTokens);
    const perplexity = Math.exp(loss);
    // a model that learned nothing scores about the unigram baseline (~60 here); the trained ones ~4 or less
    expect(baseline.perplexity).toBeGreaterThan(30);
    expect(perplexity).toBeLessThan(baseline.perplexity / 8);
  });

  test('greedy answers to held-out questions are answer words of the shapes world, in English and Chinese', async () => {
    const questions = (lang: 'en' | 'zh') => EVAL_UNITS.filter((u) => u.kind === 'qa' && u.lang === lang).slice(0, 10);
    const units = [...questions('en'), ...questions('zh')];
    const tokenizer = model.processor.tokenizer!;
    const encoded = units.map((u) => tokenizer.encode([promptOf(u)], { truncation: false }).inputIds[0]!);
    const width = Math.max(...encoded.map((r) => r.length));
    // decoder-only generation continues the right end of each row: left padding
    const padded = encoded.map((r) => [...new Array<number>(width - r.length).fill(tokenizer.specialTokenIds!.pad!), ...r]);
    const mask = encoded.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]);
    const inputIds = tf.tensor2d(padded.flat(), [units.length, width], 'int32');
    const attentionMask = tf.tensor2d(mask.flat(), [units.length, width], 'int32');
    const result = await model.generate({ inputIds, attentionMask }, { maxNewTokens: 4, doSample: false });
    tf.dispose([inputIds, attentionMask]);
    const predictions = result.texts.map((t) => t.trim());
    // Trained for ten minutes on two cores, the models speak the world's language better than they
    // read the scene: answers are nearly always answer words (Llama 40/40 per language on the first
    // 40 held-out questions, OPT 40/40 and 30/40), right about 40-45% of the time where guessing the
    // right kind of word (colour 1/6, shape 1/5, count 1/4, yes/no and side 1/2) scores about 30%.
    const wellFormed = predictions.filter((p) => ANSWERS.has(p)).length;
    const correct = predictions.filter((p, i) => p === answerOf(units[i]!)).length;
    expect(wellFormed).toBeGreaterThanOrEqual(0.7 * units.length);
    expect(correct).toBeGreaterThanOrEqual(0.25 * units.length);
  });
});

describe('mmft generate on models/llama-shapes-base', () => {
  test.each([
    ['Question: what color is the circle? Answer:', /^(red|green|blue|yellow|purple|orange)$/],
    ['从左到右依次是：红色的圆形和蓝色的正方形。 问题：正方形是什么颜色的？ 答案：', /^(红色|绿色|蓝色|黄色|紫色|橙色)$/],
  ])('%s → a colour word', async (prompt, colour) => {
    const run = await runCliForTest(['generate', MODELS.llama, '--prompt', prompt, '--max-new-tokens', '3'], { cwd: ROOT });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(colour);
  });
});
