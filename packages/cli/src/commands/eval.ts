// `mmft eval caption|vqa|retrieval`: builds typed metric inputs (text, vqa, retrieval) from
// prediction files, feeds every --metric by the kind it consumes and prints a table, optionally
// writing JSON (the built-in metrics' keys are a contract scripts depend on, docs/metrics.md).
// Inputs: our JSONL or the original COCO / VQA v2 layouts (detected by content, eval/*-input.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  checkOutputFile,
  fedMetric,
  isCausalLanguageModel,
  MmftError,
  parseConfig,
  readRecipe,
  RECIPE_SECTIONS,
  recipePluginRequests,
  sectionOrDefault,
  validateRecipe,
  writeFileAtomic,
  type RetrievalInput,
  type TextInput,
  type VqaInput,
} from '@mmft/core';
import type { CliContext } from '../context';
import { loadProbedModel, readExamples, type ProbeCliOptions } from './probe';
import { collect, runRecipe } from './train';
import { parsePerturbations } from '../eval/perturb';
import { runRobustness } from '../eval/robustness';
import { robustnessHtml, robustnessLines } from '../eval/robustness-report';
import { shapesDerivedFields } from '../eval/slices';
import { loadCaptionPredictions, loadCaptionReferences } from '../eval/caption-input';
import { metricsFor, scoreAndShow, type EvalSubcommand, type MetricOptions } from '../eval/metrics';
import { pairById, type Paired } from '../eval/pair';
import { loadSimilarity } from '../eval/retrieval-input';
import { fixed, formatTable } from '../eval/table';
import { loadVqaPredictions, loadVqaReferences } from '../eval/vqa-input';

interface CommonOptions {
  predictions: string;
  references: string;
  json?: string;
  allowMissing?: boolean;
}

/** Refuses --json OUT when OUT is one of the inputs (checked before anything is read or scored). */
function checkJsonTarget(ctx: CliContext, file: string | undefined, inputs: Record<string, string | undefined>): void {
  if (!file) return;
  const named = Object.entries(inputs).filter((e): e is [string, string] => e[1] !== undefined);
  checkOutputFile(
    path.resolve(ctx.cwd, file),
    '--json',
    named.map(([role, p]) => ({ path: path.resolve(ctx.cwd, p), role })),
  );
}

async function writeJson(ctx: CliContext, file: string | undefined, value: unknown): Promise<void> {
  if (!file) return;
  const full = path.resolve(ctx.cwd, file);
  if (fs.statSync(full, { throwIfNoEntry: false })?.isDirectory())
    throw new MmftError('E_INPUT', `--json ${file} is a folder`, { hint: 'give a file name, e.g. --json scores.json' });
  await writeFileAtomic(full, [new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)]);
  ctx.print(`wrote ${file}`);
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

/** Options of `mmft eval recipe`. */
export interface EvalRecipeOptions {
  set: string[];
  plugin?: string[];
  output?: string;
  out?: string;
  adapter?: string;
  model?: string;
  force?: boolean;
  sliceBy?: string;
  perturb?: string;
  json?: string;
  seed?: number;
  n?: number;
  batchSize?: number;
}

const sectionOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

function withoutType(section: Record<string, unknown>): [string, Record<string, unknown>] {
  const { type, ...settings } = section;
  return [type as string, settings];
}

/**
 * `mmft eval recipe --slice-by/--perturb`: the recipe's saved model on data.eval through its own
 * objective (as `mmft probe` runs it), every metric overall, per slice and under each
 * perturbation; prints the tables and writes eval.json and report.html (docs/metrics.md, "Slices
 * and robustness"). Exported for tests.
 */
export async function runSlicedEval(ctx: CliContext, recipeFile: string, o: EvalRecipeOptions): Promise<void> {
  const sliceBy = (o.sliceBy ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const perturbations = o.perturb === undefined ? [] : parsePerturbations(o.perturb);
  const raw = readRecipe(path.resolve(ctx.cwd, recipeFile), o.set, { cwd: ctx.cwd });
  const fromFlag = (o.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;
  const backend = sectionOf(recipe.backend);
  if (backend) {
    await registry.resolve('backend', backend.type as string).select(withoutType(backend)[1]);
  } else {
    const available = registry.list('backend');
    const chosen = available.find((b) => b.id === 'tfjs') ?? available[0];
    if (chosen) await chosen.select(parseConfig(chosen, {}));
  }
  const defaultOutput = `${typeof recipe.output_dir === 'string' ? recipe.output_dir : path.join('runs', raw.file.replace(/^.*[\\/]|\.(ya?ml|json)$/g, ''))}-eval`;
  const outDir = o.out ?? o.output;
  const outputDir = outDir ? path.resolve(ctx.cwd, outDir) : path.resolve(raw.baseDir, defaultOutput);
  if (o.json) checkJsonTarget(ctx, o.json, { recipe: recipeFile });
  const probeOptions: ProbeCliOptions = { set: o.set, model: o.model, adapter: o.adapter, split: 'eval', n: o.n ?? Infinity, seed: 0 };
  if (!o.model && typeof sectionOf(recipe.model)?.checkpoint !== 'string') {
    throw new MmftError('E_RECIPE', `${raw.file}: model.checkpoint is not set, and --slice-by/--perturb evaluate a saved model`, {
      hint: 'give --model <checkpoint folder> (e.g. runs/x/checkpoint-best/model) or set model.checkpoint in the recipe',
    });
  }
  const examples = await readExamples(registry, recipe, raw.baseDir, probeOptions, raw.file);
  const evalSection = sectionOf(sectionOf(recipe.data)?.eval);
  const derived = evalSection?.type === 'shapes' ? shapesDerivedFields(withoutType(evalSection)[1]) : undefined;
  const model = await loadProbedModel(registry, recipe, raw.baseDir, ctx, probeOptions, raw.file);
  try {
    const spec = RECIPE_SECTIONS.find((s) => s.kind === 'objective')!;
    // As the trainer and the probe: an absent objective: section on a language model is next-token prediction.
    const [objectiveId, settings] =
      recipe.objective === undefined && (isCausalLanguageModel(model) || model.family === 'vision-to-llm')
        ? ['causal-lm', {}]
        : withoutType(sectionOrDefault(recipe, spec)!);
    const provider = registry.resolve('objective', objectiveId);
    const train = sectionOf(recipe.train);
    const batchSize = o.batchSize ?? Number(train?.eval_batch_size ?? train?.batch_size ?? 16);
    const objective = await provider.create(parseConfig(provider, settings, 'objective'), {
      model,
      resolver: registry,
      recipe,
      seed: typeof recipe.seed === 'number' ? recipe.seed : 0,
      outputDir,
      batchSize,
    });
    try {
      const metrics = (Array.isArray(recipe.metrics) ? recipe.metrics : []).map((m) => {
        const [id, s] = withoutType(sectionOf(m)!);
        return fedMetric(registry.resolve('metric', id), s, id);
      });
      const result = await runRobustness({
        objective,
        metrics,
        examples,
        batchSize,
        sliceBy,
        perturbations,
        seed: o.seed ?? 0,
        derived,
        source: `data.eval of ${raw.file}`,
        onPass: (name) => ctx.print(`evaluating ${examples.length} examples: ${name}`),
      });
      robustnessLines(result).forEach((line) => ctx.print(line));
      fs.mkdirSync(outputDir, { recursive: true });
      const doc = { recipe: raw.file, modelType: model.modelType, ...result };
      const encode = (s: string) => [new TextEncoder().encode(s)];
      await writeFileAtomic(path.join(outputDir, 'eval.json'), encode(`${JSON.stringify(doc, null, 2)}\n`));
      const title = `mmft eval: ${path.basename(raw.file)} (${model.modelType})`;
      await writeFileAtomic(path.join(outputDir, 'report.html'), encode(robustnessHtml(title, result)));
      ctx.print(`wrote ${path.join(outputDir, 'eval.json')} and report.html`);
      await writeJson(ctx, o.json, doc);
    } finally {
      objective.dispose();
    }
  } finally {
    model.dispose();
  }
}

const wholeNumber = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};

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
  cmd
    .command('recipe')
    .description("score a recipe's model (checkpoint, + PEFT adapter) on its data.eval with its metrics, without training")
    .argument('<recipe>', 'recipe file (YAML or JSON)')
    .option(
      '--set <path=value>',
      'override a recipe value, e.g. --set model.checkpoint=runs/x/checkpoint-best/model (repeatable)',
      collect,
      [],
    )
    .option('--plugin <specifier...>', 'load extra plugin packages')
    .option(
      '--adapter <dir>',
      'load this trained PEFT adapter folder (adapter_config.json + adapter_model.safetensors) on the model; same as model.adapter in the recipe',
    )
    .option('--output <dir>', 'output folder (default: the recipe output_dir + "-eval")')
    .addOption(new Option('--out <dir>', 'same as --output').hideHelp())
    .option('--force', 'write into an output folder that holds something other than an earlier evaluation')
    .option(
      '--slice-by <fields>',
      'score every metric per value of these record fields, comma-separated (lang, answer_type, a dotted path into the JSONL record such as meta.domain; shapes data: domain, colors, shapes, objects)',
    )
    .option('--perturb <list>', 'also score under perturbations: blur[:sigma], noise[:std], crop[:fraction], paraphrase (comma-separated)')
    .option('--json <out>', 'with --slice-by/--perturb: also write eval.json here')
    .option('--model <dir>', 'with --slice-by/--perturb: saved model folder to evaluate instead of model.checkpoint')
    .option('--seed <n>', 'with --perturb: seed of the noise', wholeNumber('--seed', 0))
    .option('--n <count>', 'with --slice-by/--perturb: evaluate the first n examples of data.eval', wholeNumber('--n', 1))
    .option(
      '--batch-size <n>',
      'with --slice-by/--perturb: examples per batch (default: train.eval_batch_size)',
      wholeNumber('--batch-size', 1),
    )
    .action((file: string, o: EvalRecipeOptions) => {
      // Slices and perturbations need each record's own metric inputs, so they run the objective
      // directly (as mmft probe does) instead of the trainer's eval-only pass.
      if (o.sliceBy !== undefined || o.perturb !== undefined) return runSlicedEval(ctx, file, o);
      const only = (['json', 'model', 'seed', 'n', 'batchSize', 'out'] as const).filter((k) => o[k] !== undefined);
      if (only.length > 0) {
        const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new MmftError('E_INPUT', `mmft eval recipe: ${only.map(flag).join(', ')} only apply with --slice-by or --perturb`, {
          hint: 'add --slice-by FIELD or --perturb LIST, or drop the flag (the plain evaluation writes to --output)',
        });
      }
      // Quoted: the value is YAML, and a path may hold characters YAML reads otherwise.
      const adapter = o.adapter === undefined ? [] : [`model.adapter=${JSON.stringify(path.resolve(ctx.cwd, o.adapter))}`];
      return runRecipe(ctx, file, { ...o, set: [...o.set, ...adapter, 'train.eval_only=true'], outputSuffix: '-eval' });
    });
  return cmd;
}
