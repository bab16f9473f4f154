// Speed of the evaluators on paper-sized inputs (docs/metrics.md, "Speed"): caption metrics on 5,000 images ×
// 5 references (COCO Karpathy test size) and VQA accuracy on 200,000 questions × 10 answers,
// on deterministic synthetic text. Run: node packages/benchmarks/dist/metrics-speed.js
// `--baseline <path>` also times another build of @mmft/metric-caption (e.g. git HEAD's dist
// copied to /tmp) on the same input, run for run interleaved, and checks it reports the same numbers.
import 'reflect-metadata';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as metricCaption from '@mmft/metric-caption';
import type { CaptionUpdate } from '@mmft/metric-caption';
import { RetrievalMetric } from '@mmft/metric-retrieval';
import { VqaMetric, type VqaUpdate } from '@mmft/metric-vqa';

/** mulberry32: a small seeded PRNG so every run scores the same input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(42);
// Zipf (P(rank r) ∝ 1/r) over a 10,000-word vocabulary, the shape of caption vocabularies.
// Words are drawn independently, so there are more distinct 3/4-grams than in real captions:
// a harsher input than COCO for the n-gram tables. The distinct counts are printed.
const VOCAB = Array.from({ length: 10_000 }, (_, i) => `w${i.toString(36)}`);
const word = (): string => VOCAB[Math.min(VOCAB.length - 1, Math.floor(Math.exp(rand() * Math.log(VOCAB.length + 1))) - 1)]!;
const sentence = (): string => {
  const words = Array.from({ length: 8 + Math.floor(rand() * 7) }, word);
  return `${words.join(' ')}${rand() < 0.5 ? '.' : ''}`;
};

function report(label: string, seconds: number[]): number {
  seconds.sort((a, b) => a - b);
  const median = seconds[Math.floor(seconds.length / 2)]!;
  console.log(`${label.padEnd(58)} median ${median.toFixed(3)} s  (min ${seconds[0]!.toFixed(3)} s, ${seconds.length} runs)`);
  return median;
}

function seconds(body: () => void): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function time(label: string, runs: number, body: () => void): number {
  return report(
    label,
    Array.from({ length: runs }, () => seconds(body)),
  );
}

const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt > 0 ? (require(path.resolve(process.argv[baselineAt + 1]!)) as typeof metricCaption) : undefined;

/** Caption scoring with this build, and with the baseline build (interleaved) when given. */
function timeCaption(label: string, runs: number, config: metricCaption.CaptionConfig, updates: readonly CaptionUpdate[]): number {
  const score = (impl: typeof metricCaption) => () => {
    const m = new impl.CaptionMetric(config);
    m.update(updates);
    return m.compute();
  };
  if (baseline === undefined) return time(label, runs, score(metricCaption));
  const same = isDeepStrictEqual(score(baseline)(), score(metricCaption)());
  const times = { current: [] as number[], baseline: [] as number[] };
  for (let r = 0; r < runs; r++) {
    times.baseline.push(seconds(score(baseline)));
    times.current.push(seconds(score(metricCaption)));
  }
  report(`${label} [baseline]`, times.baseline);
  console.log(`  baseline and current reports ${same ? 'identical (every score, bit for bit)' : 'DIFFER'}`);
  return report(label, times.current);
}

const captions: CaptionUpdate[] = Array.from({ length: 5000 }, (_, i) => ({
  id: String(i),
  prediction: sentence(),
  references: Array.from({ length: 5 }, sentence),
}));
const pretokenized = captions.map((c) => ({
  ...c,
  prediction: c.prediction.replace(/\.$/, ' .'),
  references: c.references.map((r) => r.replace(/\.$/, ' .')),
}));
const ANSWERS = ['yes', 'no', '2', 'two', 'red', 'a dog', 'Dog', 'x-ray', '1,000', 'tennis', "don't know", 'blue.'];
const pick = (): string => ANSWERS[Math.floor(rand() * ANSWERS.length)]!;
const questions: VqaUpdate[] = Array.from({ length: 200_000 }, (_, i) => ({
  id: String(i),
  prediction: pick(),
  answers: Array.from({ length: 10 }, pick),
  answerType: 'other',
  questionType: 'what',
}));

const distinct = [1, 2, 3, 4].map((n) => {
  const grams = new Set<string>();
  for (const c of captions) {
    for (const ref of c.references) {
      const w = ref.replace(/\.$/, '').split(' ');
      for (let i = 0; i + n <= w.length; i++) grams.add(w.slice(i, i + n).join(' '));
    }
  }
  return grams.size;
});
console.log(`caption input: 5000 images × 5 references; distinct reference 1..4-grams: ${distinct.join(', ')}`);
const results: Record<string, number> = {};
results.caption_ptb_s = timeCaption(
  'caption: PTB tokenise + BLEU + ROUGE-L + CIDEr-D, 5000×5',
  7,
  { tokenizer: 'ptb', sigma: 6 },
  captions,
);
results.caption_scoring_s = timeCaption(
  'caption: BLEU + ROUGE-L + CIDEr-D on tokenised text, 5000×5',
  7,
  { tokenizer: 'none', sigma: 6 },
  pretokenized,
);
results.vqa_s = time('vqa: accuracy, 200000 questions × 10 answers', 5, () => {
  const m = new VqaMetric({ decimals: 2 });
  m.update(questions);
  m.compute();
});
const matrix = Array.from({ length: 1000 }, () => Float64Array.from({ length: 5000 }, rand));
const textToImage = Array.from({ length: 5000 }, (_, t) => Math.floor(t / 5));
results.retrieval_1k_s = time('retrieval: 1000 images × 5000 texts similarity matrix', 3, () => {
  const m = new RetrievalMetric({ ks: [1, 5, 10] });
  m.update({ similarity: { matrix, textToImage } });
  m.compute();
});
console.log(JSON.stringify({ benchmark: 'metrics-speed', node: process.version, ...results }));
