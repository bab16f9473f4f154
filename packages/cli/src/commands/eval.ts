// `mmft eval caption|vqa|retrieval`: builds typed metric inputs (text, vqa, retrieval) from
// prediction files, feeds every --metric by the kind it consumes and prints a table, optionally
// writing JSON (the built-in metrics' keys are a contract scripts depend on, docs/metrics.md).
// Inputs: our JSONL or the original COCO / VQA v2 layouts (detected by content, eval/*-input.ts).
// `mmft eval recipe` is in ./eval-recipe.ts.
import { Command, Option } from 'commander';
import type { RetrievalInput, TextInput, VqaInput } from '@mmft/core';
import type { CliContext } from '../context';
import { addEvalRecipeCommand } from './eval-recipe';
import { checkJsonTarget, writeJson } from './eval-json';
import { loadCaptionPredictions, loadCaptionReferences } from '../eval/caption-input';
import { metricsFor, scoreAndShow, type EvalSubcommand, type MetricOptions } from '../eval/metrics';
import { pairById, type Paired } from '../eval/pair';
import { loadSimilarity } from '../eval/retrieval-input';
import { fixed, formatTable } from '../eval/table';
import { loadVqaPredictions, loadVqaReferences } from '../eval/vqa-input';

export { runSlicedEval, type EvalRecipeOptions } from './eval-recipe';

interface CommonOptions {
  predictions: string;
  references: string;
  json?: string;
  allowMissing?: boolean;
}

function reportLeftOut(ctx: CliContext, paired: Paired<unknown, unknown>, o: CommonOptions): void {
  const [onlyPred, onlyRef] = paired.leftOut;
  if (onlyPred + onlyRef === 0) return;
  ctx.print(
    `--allow-missing: scored ${paired.pairs.length} ids; left out ${onlyPred} only in ${o.predictions} and ${onlyRef} only in ${o.references}`,
  );
}

async function evalCaption(ctx: CliContext, o: CommonOptions & MetricOptions & { tokenizer: string }): Promise<void> {
  const sub: EvalSubcommand = { name: 'caption', kind: 'text', builtin: 'caption', builtinConfig: { tokenizer: o.tokenizer } };
  checkJsonTarget(ctx, o.json, { '--predictions': o.predictions, '--references': o.references });
  const metrics = await metricsFor(ctx, sub, o);
  const paired = pairById(loadCaptionPredictions(o.predictions, ctx.cwd), loadCaptionReferences(o.references, ctx.cwd), {
    predictionsFile: o.predictions,
    referencesFile: o.references,
    allowMissing: Boolean(o.allowMissing),
  });
  const inputs = paired.pairs.map((p): TextInput => ({ kind: 'text', id: p.id, prediction: p.prediction, references: p.reference }));
  reportLeftOut(ctx, paired, o);
  const json = await scoreAndShow(ctx, sub, metrics, inputs, `${inputs.length} images`, {
    show(report) {
      const s = report.scores;
      // Scores under different tokenisers are not comparable, so the table and the JSON name it
      // (the metric reports the one it used: `chinese-char` reads `char`).
      const tokenizer = (report as { tokenizer?: string }).tokenizer ?? o.tokenizer;
      const names: [string, string][] = [
        ['bleu1', 'BLEU-1'],
        ['bleu2', 'BLEU-2'],
        ['bleu3', 'BLEU-3'],
        ['bleu4', 'BLEU-4'],
        ['rougeL', 'ROUGE-L'],
        ['cider', 'CIDEr-D'],
      ];
      formatTable(
        [`caption (${inputs.length} images, tokenizer ${tokenizer})`, 'score'],
        names.map(([k, label]) => [label, fixed(s[k]!, 4)]),
      ).forEach((l) => ctx.print(l));
      const perItem: Record<string, { cider: number; rougeL: number; bleu4: number }> = {};
      for (const [id, v] of Object.entries(report.perItem ?? {})) perItem[id] = { cider: v.cider!, rougeL: v.rougeL!, bleu4: v.bleu4! };
      return {
        bleu1: s.bleu1,
        bleu2: s.bleu2,
        bleu3: s.bleu3,
        bleu4: s.bleu4,
        rougeL: s.rougeL,
        cider: s.cider,
        tokenizer,
        per_item: perItem,
      };
    },
  });
  await writeJson(ctx, o.json, json);
}

async function evalVqa(ctx: CliContext, o: CommonOptions & MetricOptions & { questions?: string; variant: string }): Promise<void> {
  const sub: EvalSubcommand = { name: 'vqa', kind: 'vqa', builtin: 'vqa', builtinConfig: { variant: o.variant } };
  checkJsonTarget(ctx, o.json, { '--predictions': o.predictions, '--references': o.references, '--questions': o.questions });
  const metrics = await metricsFor(ctx, sub, o);
  const paired = pairById(loadVqaPredictions(o.predictions, ctx.cwd), loadVqaReferences(o.references, ctx.cwd, o.questions), {
    predictionsFile: o.predictions,
    referencesFile: o.references,
    allowMissing: Boolean(o.allowMissing),
  });
  const inputs = paired.pairs.map((p): VqaInput => ({
    kind: 'vqa',
    id: p.id,
    prediction: p.prediction,
    answers: p.reference.answers,
    answerType: p.reference.answerType,
    questionType: p.reference.questionType,
  }));
  reportLeftOut(ctx, paired, o);
  const json = await scoreAndShow(ctx, sub, metrics, inputs, `${inputs.length} questions`, {
    show(report) {
      const groups = report.groups ?? {};
      const percentOf = (group: string): Record<string, number> =>
        Object.fromEntries(Object.entries(groups[group] ?? {}).map(([k, v]) => [k, v.accuracy!]));
      const rows: string[][] = [['overall', String(inputs.length), fixed(report.scores.accuracy!, 2)]];
      for (const [k, v] of Object.entries(groups.answer_type ?? {}))
        rows.push([`answer type: ${k}`, String(v.count), fixed(v.accuracy!, 2)]);
      formatTable(['VQA accuracy', 'questions', '%'], rows).forEach((l) => ctx.print(l));
      const perItem = Object.fromEntries(Object.entries(report.perItem ?? {}).map(([id, v]) => [id, v.accuracy!]));
      return {
        accuracy: report.scores.accuracy,
        per_item: perItem,
        per_answer_type: percentOf('answer_type'),
        per_question_type: percentOf('question_type'),
      };
    },
  });
  await writeJson(ctx, o.json, json);
}

async function evalRetrieval(ctx: CliContext, o: MetricOptions & { similarity: string; json?: string }): Promise<void> {
  const sub: EvalSubcommand = { name: 'retrieval', kind: 'retrieval', builtin: 'retrieval', builtinConfig: {} };
  checkJsonTarget(ctx, o.json, { '--similarity': o.similarity });
  const metrics = await metricsFor(ctx, sub, o);
  const { matrix, textToImage } = loadSimilarity(o.similarity, ctx.cwd);
  const input: RetrievalInput = { kind: 'retrieval', similarity: { matrix, textToImage } };
  const json = await scoreAndShow(ctx, sub, metrics, [input], `${matrix.length} images, ${textToImage.length} texts`, {
    show(report) {
      const groups = report.groups ?? {};
      const i2t = groups.i2t?.all ?? {};
      const t2i = groups.t2i?.all ?? {};
      const keys = ['R@1', 'R@5', 'R@10', 'mrr', 'median_rank', 'mAP'];
      const show = (k: string, v: number | undefined): string =>
        v === undefined ? '' : k.startsWith('R@') ? fixed(v, 2) : k === 'median_rank' ? String(v) : fixed(v, 4);
      formatTable(
        [`retrieval (${matrix.length} images, ${textToImage.length} texts)`, 'image→text', 'text→image'],
        keys.map((k) => [k, show(k, i2t[k]), show(k, t2i[k])]),
      ).forEach((l) => ctx.print(l));
      return { i2t, t2i };
    },
  });
  await writeJson(ctx, o.json, json);
}

/**
 * The `eval` command with its three subcommands.
 *
 * @example
 * program.addCommand(evalCommand(ctx)); // mmft eval caption --predictions P.jsonl --references R.jsonl
 */
export function evalCommand(ctx: CliContext): Command {
  // Subcommands made with .command() inherit these settings: errors reach runCli, output the context.
  const cmd = new Command('eval')
    .description('Score predictions: COCO caption metrics, VQA accuracy, image-text retrieval')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) });
  const common = (sub: Command): Command =>
    sub
      .requiredOption('--predictions <file>', 'predictions (JSONL, or the original result JSON)')
      .requiredOption('--references <file>', 'references (JSONL, or the original annotation JSON)')
      .option('--json <out>', 'write scores and per-item results as JSON (one object per metric id when several --metric)')
      .option('--allow-missing', 'score the ids both files have and report how many were left out');
  const metricOptions = (sub: Command, builtin: string, kind: string): Command =>
    sub
      .option('--metric <id...>', `metrics to score with; each must consume ${kind} inputs (default: ${builtin})`)
      .option('--plugin <specifier...>', 'load extra plugin packages (e.g. a third-party metric)');
  metricOptions(
    common(cmd.command('caption').description('BLEU-1..4, ROUGE-L, CIDEr-D equal to pycocoevalcap (or any metric of text inputs)')),
    'caption',
    'text',
  )
    .addOption(
      new Option(
        '--tokenizer <name>',
        "caption tokeniser of the caption metric: ptb (pycocoevalcap's), char or jieba (Chinese by character or by word), none (pre-tokenised)",
      )
        .choices(['ptb', 'char', 'jieba', 'none', 'chinese-char'])
        .default('ptb'),
    )
    .action((o: CommonOptions & MetricOptions & { tokenizer: string }) => evalCaption(ctx, o));
  metricOptions(
    common(cmd.command('vqa').description('VQA accuracy equal to the official vqaEval.py (or any metric of vqa inputs)')),
    'vqa',
    'vqa',
  )
    .option('--questions <file>', 'VQA v2 questions file (with a VQA v2 annotations file as --references)')
    .addOption(
      new Option('--variant <name>', "answer normalisation: the official vqaEval.py or LAVIS's copy (docs/metrics.md)")
        .choices(['official', 'lavis'])
        .default('official'),
    )
    .action((o: CommonOptions & MetricOptions & { questions?: string; variant: string }) => evalVqa(ctx, o));
  metricOptions(cmd.command('retrieval'), 'retrieval', 'retrieval')
    .description('Recall@1/5/10, MRR, median rank, mAP in both directions from a similarity matrix (or any metric of retrieval inputs)')
    .requiredOption('--similarity <file>', 'JSON {"similarity": [[image × text]], "text_to_image": [...]}')
    .option('--json <out>', 'write the scores as JSON')
    .action((o: MetricOptions & { similarity: string; json?: string }) => evalRetrieval(ctx, o));
  addEvalRecipeCommand(cmd, ctx);
  return cmd;
}
