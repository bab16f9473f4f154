// `mmft eval` end to end on temp files: the JSON contract, the COCO / VQA v2 layouts, bad input
// (count + first ten file:line), --allow-missing. Runs the command factory directly until the
// lead wires it into commands/index.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { Command } from 'commander';
import { createCliContext } from '../context';
import { evalCommand } from './eval';

const BUILTINS = ['@mmft/metric-caption', '@mmft/metric-vqa', '@mmft/metric-retrieval'];
const golden = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../plugins/metric-caption/test-fixtures/caption-golden.json'), 'utf8'),
) as Record<string, { predictions: Record<string, string>; references: Record<string, string[]>; scores: Record<string, number> }>;

async function run(argv: string[], files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const ctx = createCliContext({ isTTY: false, stdout, stderr, cwd: dir, builtins: BUILTINS });
  const program = new Command('mmft').exitOverride().addCommand(evalCommand(ctx));
  let code = 0;
  try {
    await program.parseAsync(['eval', ...argv], { from: 'user' });
  } catch (error) {
    code = 1;
    const hint = (error as { hint?: string }).hint;
    stderr.write(`error: ${(error as Error).message}\n${hint === undefined ? '' : `hint: ${hint}\n`}`);
  }
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), dir };
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const readJson = (dir: string, file: string): Record<string, any> => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
const mixed = golden.mixed!;
const ids = Object.keys(mixed.predictions);
const P = jsonl(ids.map((id) => ({ id, caption: mixed.predictions[id] })));
const R = jsonl(ids.map((id) => ({ id, captions: mixed.references[id] })));

describe('mmft eval caption', () => {
  test('JSONL in, the JSON contract out, equal to the independent checker', async () => {
    const r = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': P,
      'R.jsonl': R,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CIDEr-D/);
    const out = readJson(r.dir, 'out.json');
    expect(Object.keys(out).sort()).toEqual(['bleu1', 'bleu2', 'bleu3', 'bleu4', 'cider', 'per_item', 'rougeL', 'tokenizer']);
    expect(out.tokenizer).toBe('ptb');
    for (const [k, v] of Object.entries(mixed.scores)) expect(out[k]).toBeCloseTo(v, 12);
    expect(Object.keys(out.per_item['0']).sort()).toEqual(['bleu4', 'cider', 'rougeL']);
  });

  test('COCO result JSON + captions annotation file give the same numbers', async () => {
    const results = ids.map((id) => ({ image_id: Number(id) + 100, caption: mixed.predictions[id] }));
    const annotations = ids.flatMap((id) => mixed.references[id]!.map((caption, k) => ({ id: k, image_id: Number(id) + 100, caption })));
    const r = await run(['caption', '--predictions', 'res.json', '--references', 'ann.json', '--json', 'out.json'], {
      'res.json': JSON.stringify(results),
      'ann.json': JSON.stringify({ images: [], annotations }),
    });
    expect(r.code).toBe(0);
    expect(readJson(r.dir, 'out.json').cider).toBeCloseTo(mixed.scores.cider!, 12);
  });

  test('ids on one side only: non-zero exit with the count and the first ten file:line', async () => {
    const extra = jsonl([
      ...ids.map((id) => ({ id, caption: 'a cat' })),
      ...Array.from({ length: 12 }, (_, i) => ({ id: `x${i}`, caption: 'a' })),
    ]);
    const r = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl'], { 'P.jsonl': extra, 'R.jsonl': R });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/12 ids only in P\.jsonl \(no reference\) \(first 10\): P\.jsonl:10 \(id "x0"\)/);
    expect(r.stderr).toMatch(/… and 2 more/);
    const allowed = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--allow-missing'], {
      'P.jsonl': extra,
      'R.jsonl': R,
    });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/scored 9 ids; left out 12 only in P\.jsonl and 0 only in R\.jsonl/);
  });

  test('--tokenizer char|jieba scores Chinese captions and the table and JSON name the tokenizer; an unknown one is refused', async () => {
    // One red circle described as a red square, one triangle caption equal to its reference: the
    // hand-computed numbers of metric-caption's chinese-tokenizers.test.ts.
    const files = {
      'P.jsonl': jsonl([
        { id: '1', caption: '一个红色的圆形。' },
        { id: '2', caption: '两个绿色的三角形' },
      ]),
      'R.jsonl': jsonl([
        { id: '1', captions: ['一个红色的方形。'] },
        { id: '2', captions: ['两个绿色的三角形'] },
      ]),
    };
    const expected = { char: { bleu1: 14 / 15, cider: 191 / 24 }, jieba: { bleu1: 7 / 8, cider: 175 / 24 }, ptb: { bleu1: 1 / 2 } };
    for (const [tokenizer, scores] of Object.entries(expected)) {
      const r = await run(
        ['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--tokenizer', tokenizer, '--json', 'out.json'],
        files,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`caption (2 images, tokenizer ${tokenizer})`);
      const out = readJson(r.dir, 'out.json');
      expect(out.tokenizer).toBe(tokenizer);
      for (const [k, v] of Object.entries(scores)) expect(out[k]).toBeCloseTo(v, 9);
    }
    const old = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--tokenizer', 'chinese-char'], files);
    expect(old.stdout).toContain('caption (2 images, tokenizer char)');
    const bad = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--tokenizer', 'jeiba'], files);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/'--tokenizer <name>' argument 'jeiba' is invalid\. Allowed choices are ptb, char, jieba, none/);
  });

  test('duplicates, empty reference lists and malformed lines are reported, never dropped', async () => {
    const dup = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl'], {
      'P.jsonl': P + jsonl([{ id: '0', caption: 'again' }]),
      'R.jsonl': R,
    });
    expect(dup.stderr).toMatch(/1 duplicate ids in P\.jsonl: P\.jsonl:10 \(id "0", first at P\.jsonl:1\)/);
    const empty = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl'], {
      'P.jsonl': P,
      'R.jsonl': R + jsonl([{ id: 'e', captions: [] }]),
    });
    expect(empty.stderr).toMatch(/1 empty reference lists in R\.jsonl: R\.jsonl:10 \(id "e"\)/);
    const bad = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl'], {
      'P.jsonl': `${P}{"id": "z", caption\n`,
      'R.jsonl': R,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/1 malformed lines in P\.jsonl: P\.jsonl:10/);
  });
});

describe('mmft eval vqa', () => {
  const refs = [
    { id: 'q1', answers: Array(10).fill('2'), answer_type: 'number', question_type: 'how many' },
    { id: 'q2', answers: ['dog', 'dog', ...Array(8).fill('cat')], answer_type: 'other', question_type: 'what is' },
    { id: 'q3', answers: [...Array(9).fill('yes'), 'no'], answer_type: 'yes/no', question_type: 'is the' },
  ];
  const preds = [
    { id: 'q1', answer: 'Two.' },
    { id: 'q2', answer: 'a dog' },
    { id: 'q3', answer: 'no' },
  ];

  test('official variant by default: "Two." against ten "2" is not normalised and scores 0', async () => {
    const r = await run(['vqa', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': jsonl(preds),
      'R.jsonl': jsonl(refs),
    });
    expect(r.code).toBe(0);
    expect(readJson(r.dir, 'out.json')).toMatchObject({ accuracy: 30, per_item: { q1: 0, q2: 60, q3: 30 } });
  });

  test('JSONL (--variant lavis): accuracy, per item, per answer and question type, in percent', async () => {
    const r = await run(['vqa', '--variant', 'lavis', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': jsonl(preds),
      'R.jsonl': jsonl(refs),
    });
    expect(r.code).toBe(0);
    expect(readJson(r.dir, 'out.json')).toEqual({
      accuracy: 63.33,
      per_item: { q1: 100, q2: 60, q3: 30 },
      per_answer_type: { number: 100, other: 60, 'yes/no': 30 },
      per_question_type: { 'how many': 100, 'what is': 60, 'is the': 30 },
    });
  });

  test('VQA v2 layout: results + annotations + --questions', async () => {
    const files = {
      'res.json': JSON.stringify(preds.map((p, i) => ({ question_id: i + 1, answer: p.answer }))),
      'ann.json': JSON.stringify({
        annotations: refs.map((r, i) => ({
          question_id: i + 1,
          answer_type: r.answer_type,
          question_type: r.question_type,
          answers: r.answers.map((answer, k) => ({ answer, answer_confidence: 'yes', answer_id: k + 1 })),
        })),
      }),
      'q.json': JSON.stringify({ questions: [1, 2, 3].map((question_id) => ({ question_id, image_id: 1, question: 'Q?' })) }),
    };
    const r = await run(
      ['vqa', '--variant', 'lavis', '--predictions', 'res.json', '--references', 'ann.json', '--questions', 'q.json', '--json', 'out.json'],
      files,
    );
    expect(r.code).toBe(0);
    expect(readJson(r.dir, 'out.json').accuracy).toBe(63.33);
    const missing = await run(['vqa', '--predictions', 'res.json', '--references', 'ann.json', '--questions', 'q.json'], {
      ...files,
      'q.json': JSON.stringify({ questions: [{ question_id: 1, question: 'Q?' }] }),
    });
    expect(missing.stderr).toMatch(/2 annotated questions missing from q\.json/);
  });
});

describe('mmft eval retrieval', () => {
  test('similarity matrix in, i2t / t2i out', async () => {
    const S = {
      similarity: [
        [0.9, 0.1, 0.8, 0.0],
        [0.5, 0.0, 0.2, 0.3],
      ],
      text_to_image: [0, 0, 1, 1],
    };
    const r = await run(['retrieval', '--similarity', 'S.json', '--json', 'out.json'], { 'S.json': JSON.stringify(S) });
    expect(r.code).toBe(0);
    const out = readJson(r.dir, 'out.json');
    expect(out.i2t).toMatchObject({ 'R@1': 50, 'R@5': 100, 'R@10': 100, mrr: 0.75, median_rank: 1 });
    expect(Object.keys(out.t2i)).toEqual(expect.arrayContaining(['R@1', 'R@5', 'R@10', 'mrr', 'median_rank']));
    const bad = await run(['retrieval', '--similarity', 'S.json'], { 'S.json': JSON.stringify({ ...S, text_to_image: [0, 0, 1, 7] }) });
    expect(bad.stderr).toMatch(/1 bad text_to_image entries in S\.json: text_to_image\[3\] = 7/);
  });
});

describe('mmft eval --json', () => {
  test('refuses to write over one of its inputs, by name, link or hard link; the input is untouched', async () => {
    const S = JSON.stringify({ similarity: [[0.9, 0.1]], text_to_image: [0, 0] });
    const cases: [string[], Record<string, string>, string][] = [
      [['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'R.jsonl'], { 'P.jsonl': P, 'R.jsonl': R }, 'R.jsonl'],
      [
        ['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', './sub/../P.jsonl'],
        { 'P.jsonl': P, 'R.jsonl': R },
        'P.jsonl',
      ],
      [
        ['vqa', '--predictions', 'P.json', '--references', 'ann.json', '--questions', 'q.json', '--json', 'q.json'],
        { 'P.json': '[]', 'ann.json': '{}', 'q.json': '{"questions": []}' },
        'q.json',
      ],
      [['retrieval', '--similarity', 'S.json', '--json', 'S.json'], { 'S.json': S }, 'S.json'],
    ];
    for (const [argv, files, input] of cases) {
      const r = await run(argv, files);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`--json \\S+ would overwrite the input --\\w+ \\S*${input.replace('.', '\\.')}`));
      expect(fs.readFileSync(path.join(r.dir, input), 'utf8')).toBe(files[input]);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-'));
    fs.writeFileSync(path.join(dir, 'S.json'), S);
    fs.linkSync(path.join(dir, 'S.json'), path.join(dir, 'same.json'));
    const ctx = createCliContext({ isTTY: false, stdout: new PassThrough(), stderr: new PassThrough(), cwd: dir, builtins: BUILTINS });
    const program = new Command('mmft').exitOverride().addCommand(evalCommand(ctx));
    await expect(
      program.parseAsync(['eval', 'retrieval', '--similarity', 'S.json', '--json', 'same.json'], { from: 'user' }),
    ).rejects.toThrow('would overwrite the input --similarity');
    expect(fs.readFileSync(path.join(dir, 'S.json'), 'utf8')).toBe(S);
  });
});

describe('mmft eval --metric: any metric of the input kind the subcommand builds', () => {
  const EXACT_MATCH = path.join(__dirname, '../../../../examples/third-party-plugin');
  const answers = jsonl([
    { id: 'a', caption: ' Two  dogs' },
    { id: 'b', caption: 'a cat' },
  ]);
  const refs = jsonl([
    { id: 'a', captions: ['two dogs', 'dogs'] },
    { id: 'b', captions: ['a dog'] },
  ]);

  test('caption --metric exact-match --plugin <third-party package> scores text inputs with it', async () => {
    const r = await run(
      [
        'caption',
        '--predictions',
        'P.jsonl',
        '--references',
        'R.jsonl',
        '--metric',
        'exact-match',
        '--plugin',
        EXACT_MATCH,
        '--json',
        'out.json',
      ],
      { 'P.jsonl': answers, 'R.jsonl': refs },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exact-match \(2 images\)\s+score\n-+\s+-+\nexact_match\s+50\.0000/);
    expect(readJson(r.dir, 'out.json')).toEqual({ exact_match: 50, per_item: { a: { exact_match: 100 }, b: { exact_match: 0 } } });
  });

  test('several metrics: one JSON object per metric id; the built-in one keeps its keys and numbers', async () => {
    const alone = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': P,
      'R.jsonl': R,
    });
    const both = await run(
      [
        'caption',
        '--predictions',
        'P.jsonl',
        '--references',
        'R.jsonl',
        '--metric',
        'caption',
        'exact-match',
        '--plugin',
        EXACT_MATCH,
        '--json',
        'out.json',
      ],
      { 'P.jsonl': P, 'R.jsonl': R },
    );
    expect(both.code).toBe(0);
    const out = readJson(both.dir, 'out.json');
    expect(Object.keys(out)).toEqual(['caption', 'exact-match']);
    expect(out.caption).toEqual(readJson(alone.dir, 'out.json'));
    expect(both.stdout).toContain(alone.stdout.replace('wrote out.json\n', ''));
  });

  test('a metric of another kind is refused, naming what it consumes and the metrics that fit', async () => {
    const r = await run(['caption', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--metric', 'vqa', '--plugin', EXACT_MATCH], {
      'P.jsonl': P,
      'R.jsonl': R,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: metric "vqa" consumes vqa inputs, but `mmft eval caption` emits only: text');
    expect(r.stderr).toContain('hint: metrics that consume what `mmft eval caption` emits: caption (text), exact-match (text)');
    const vqa = await run(
      ['vqa', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--metric', 'exact-match', '--plugin', EXACT_MATCH],
      { 'P.jsonl': P, 'R.jsonl': R },
    );
    expect(vqa.stderr).toContain('error: metric "exact-match" consumes text inputs, but `mmft eval vqa` emits only: vqa');
    expect(vqa.stderr).toContain('hint: metrics that consume what `mmft eval vqa` emits: vqa (vqa)');
  });

  test('vqa and retrieval name their built-in metric by default and take it by --metric alike', async () => {
    const refsV = jsonl([
      { id: 'q1', answers: Array(10).fill('2') },
      { id: 'q2', answers: ['dog', 'dog', ...Array(8).fill('cat')] },
    ]);
    const predsV = jsonl([
      { id: 'q1', answer: '2' },
      { id: 'q2', answer: 'dog' },
    ]);
    const byDefault = await run(['vqa', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': predsV,
      'R.jsonl': refsV,
    });
    const named = await run(['vqa', '--metric', 'vqa', '--predictions', 'P.jsonl', '--references', 'R.jsonl', '--json', 'out.json'], {
      'P.jsonl': predsV,
      'R.jsonl': refsV,
    });
    expect(readJson(named.dir, 'out.json')).toEqual(readJson(byDefault.dir, 'out.json'));
    expect(readJson(named.dir, 'out.json').accuracy).toBe(80);
    const S = JSON.stringify({
      similarity: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      text_to_image: [0, 1],
    });
    const retrieval = await run(['retrieval', '--metric', 'retrieval', '--similarity', 'S.json', '--json', 'out.json'], { 'S.json': S });
    expect(readJson(retrieval.dir, 'out.json').i2t['R@1']).toBe(100);
  });
});
