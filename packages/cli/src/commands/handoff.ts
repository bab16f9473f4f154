// `mmft handoff <recipe> --to <target> --out DIR`: writes a self-contained bundle another engine
// (LLaMA-Factory, ms-swift, accelerate + Trainer + peft) trains the recipe with on many GPUs and
// nodes: the data as chat rows with their images, the target's config and launch script, and a
// README saying what maps and what does not. Core builds the plan and the data (core/src/handoff),
// the target provider (plugin kind `handoff`) writes its files. docs/scaling-out.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  checkOutputFolder,
  datasetContext,
  handoffPlan,
  MmftError,
  parseConfig,
  readRecipe,
  recipePluginRequests,
  validateRecipe,
  writeFolder,
  writeHandoffBundle,
  writeHandoffData,
  type Example,
  type HandoffLaunch,
  type HandoffPlan,
  type PluginRegistry,
} from '@mmft/core';
import type { CliContext } from '../context';
import { imageToPng } from '../handoff/png';
import { sectionOf, withoutType } from '../probe/recipe-parts';
import { collect } from './train';

const VERSION: string = (require('../../package.json') as { version: string }).version;

export interface HandoffOptions {
  to: string;
  out: string;
  gpus: number;
  nodes: number;
  strategy?: HandoffLaunch['strategy'];
  precision: HandoffLaunch['precision'];
  modelPath?: string;
  copyModel?: boolean;
  targetOption: string[];
  set: string[];
  plugin?: string[];
  force?: boolean;
}

async function* examplesOf(
  registry: PluginRegistry,
  section: Record<string, unknown>,
  baseDir: string,
  where: string,
): AsyncIterable<Example> {
  const [type, settings] = withoutType(section);
  const dataset = await registry.resolve('dataset', type).open(settings, datasetContext(registry, baseDir, where));
  yield* dataset.iterate({ shuffle: false });
}

function targetOptions(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new MmftError('E_INPUT', `--target-option "${pair}" is not key=value`, { hint: 'e.g. --target-option template=llava' });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Runs the command; exported for tests. */
export async function runHandoff(ctx: CliContext, recipeFile: string, o: HandoffOptions): Promise<void> {
  if (o.copyModel && o.modelPath) {
    throw new MmftError('E_INPUT', '--copy-model and --model-path both say where the base model is', { hint: 'pass one of them' });
  }
  const raw = readRecipe(path.resolve(ctx.cwd, recipeFile), o.set, { cwd: ctx.cwd });
  const fromFlag = (o.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;

  const targets = registry.list('handoff');
  const target = targets.find((t) => t.id === o.to);
  if (!target) {
    throw new MmftError(
      'E_UNKNOWN_ID',
      `--to ${o.to}: no handoff target of that name; registered: ${targets.map((t) => t.id).join(', ') || '(none)'}`,
      {
        hint: 'pick one of the registered targets, or load the plugin that provides it with --plugin <package>',
      },
    );
  }
  const targetConfig = parseConfig(target, targetOptions(o.targetOption));

  let plan: HandoffPlan = handoffPlan(recipe, raw.file, raw.baseDir, { modelPath: o.modelPath });
  const out = path.resolve(ctx.cwd, o.out);
  checkOutputFolder(out, {
    kind: 'handoff',
    flag: '--out',
    force: o.force,
    protect: [
      { path: plan.model.localPath, role: 'model.checkpoint' },
      { path: raw.file, role: 'the recipe' },
    ],
  });
  if (o.copyModel) plan = { ...plan, model: { ...plan.model, path: 'model' } };

  const objectiveSection = sectionOf(recipe.objective);
  if (!objectiveSection)
    throw new MmftError('E_RECIPE', `${raw.file}: the recipe has no objective: section`, { hint: 'add objective: { type: causal-lm }' });
  const [objectiveType, objectiveConfig] = withoutType(objectiveSection);
  const objective = registry.resolve('objective', objectiveType);
  const conversations = objective.conversations?.bind(objective);
  if (!conversations) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${raw.file}: objective ${objectiveType} trains on no chats, so its data cannot be handed to a chat fine-tuning engine`,
      {
        hint: 'hand off recipes with objective causal-lm (caption, VQA and instruction data)',
      },
    );
  }
  const data = sectionOf(recipe.data);
  const train = sectionOf(data?.train);
  if (!train)
    throw new MmftError('E_RECIPE', `${raw.file}: the recipe has no data.train section`, {
      hint: 'add data: { train: { type: ..., ... } }',
    });
  const evalSection = sectionOf(data?.eval);

  const launch: HandoffLaunch = {
    gpus: o.gpus,
    nodes: o.nodes,
    strategy: o.strategy ?? (o.gpus * o.nodes > 1 ? 'zero2' : 'ddp'),
    precision: o.precision,
    outputDir: 'output',
  };
  const extraRows = { examples: 0, rows: 0 };
  let summary:
    | {
        rows: string;
        files: readonly string[];
        commands: readonly string[];
        gaps: readonly { field: string; why: string }[];
        output: string;
      }
    | undefined;
  await writeFolder(
    out,
    async (staged) => {
      const written = await writeHandoffData(
        {
          train: examplesOf(registry, train, raw.baseDir, 'data.train'),
          ...(evalSection ? { eval: examplesOf(registry, evalSection, raw.baseDir, 'data.eval') } : {}),
        },
        (example) => {
          const chats = conversations(objectiveConfig as never, example);
          if (chats.length > 1) {
            extraRows.examples += 1;
            extraRows.rows += chats.length;
          }
          return chats;
        },
        staged,
        // PIL reads PNG, JPEG and WebP but not SVG (the shapes world draws SVG).
        { toPng: imageToPng },
      );
      const { imageCount, ...handoffData } = written;
      if (extraRows.examples > 0) {
        // mmft draws one caption per example and epoch; the engine trains on every row each epoch.
        const gap = {
          field: 'data',
          why: `${extraRows.examples} caption examples became ${extraRows.rows} rows (one per caption): an engine epoch is longer and captions weigh more than in mmft, which draws one caption per example per epoch`,
        };
        plan = { ...plan, gaps: [...plan.gaps, gap] };
      }
      if (o.copyModel) fs.cpSync(plan.model.localPath, path.join(staged, 'model'), { recursive: true });
      const result = await target.write(plan, handoffData, launch, staged, targetConfig);
      const manifest = writeHandoffBundle(staged, {
        plan,
        launch,
        data: handoffData,
        result,
        target: { id: target.id, engine: target.engine },
        mmftVersion: VERSION,
      });
      summary = {
        rows: `${written.trainRows} train rows${written.eval ? `, ${written.evalRows} eval rows` : ''}, ${imageCount} images`,
        files: [
          ...manifest.files,
          'data/train.jsonl',
          ...(written.eval ? ['data/eval.jsonl'] : []),
          'data/images/',
          ...(o.copyModel ? ['model/'] : []),
        ],
        commands: result.commands,
        gaps: manifest.gaps,
        output: result.output,
      };
    },
    { kind: 'handoff' },
  );
  const s = summary!;
  ctx.print(`wrote ${target.engine} bundle ${o.out}: ${s.rows}`);
  ctx.print(`  files: ${s.files.join(', ')}`);
  ctx.print(`launch (from ${o.out}; other nodes set NNODES, NODE_RANK, MASTER_ADDR first):`);
  for (const line of s.commands) ctx.print(`  ${line}`);
  if (s.gaps.length === 0) ctx.print('not carried over: nothing');
  else {
    ctx.print(`not carried over (${s.gaps.length}; README.md lists them):`);
    for (const gap of s.gaps) ctx.print(`  ${gap.field}: ${gap.why}`);
  }
  ctx.print(`bring the result back: mmft import ${path.join(o.out, s.output)} --out <dir>`);
}

const count = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 1, got "${value}"`);
  return n;
};

/**
 * The `handoff` command.
 *
 * @example
 * program.addCommand(handoffCommand(ctx)); // mmft handoff recipes/x.yaml --to llamafactory --out bundles/x --gpus 8
 */
export function handoffCommand(ctx: CliContext): Command {
  return new Command('handoff')
    .description('Write a bundle that trains the recipe on another engine (LLaMA-Factory, ms-swift, accelerate) on many GPUs and nodes')
    .argument('<recipe>', 'recipe file (YAML or JSON)')
    .requiredOption('--to <target>', 'handoff target: llamafactory, swift or accelerate (`mmft plugins` lists them)')
    .requiredOption('--out <dir>', 'bundle folder to write (a new or empty folder, or a bundle mmft wrote)')
    .option('--gpus <n>', 'GPUs per node', count('--gpus'), 1)
    .option('--nodes <n>', 'nodes', count('--nodes'), 1)
    .addOption(
      new Option(
        '--strategy <name>',
        'sharding: DeepSpeed ZeRO-2/3, FSDP full shard, or plain DDP (default: zero2 on more than one GPU, else ddp)',
      ).choices(['zero2', 'zero3', 'fsdp', 'ddp']),
    )
    .addOption(new Option('--precision <p>', 'mixed precision of the engine').choices(['bf16', 'fp16', 'fp32']).default('bf16'))
    .option(
      '--model-path <p>',
      'how the training machines find the base model (a path there, or a hub id); default the recipe checkpoint folder',
    )
    .option('--copy-model', 'copy the base model folder into <out>/model and use that')
    .option('--target-option <key=value>', "a target's own option, e.g. template=llava for llamafactory (repeatable)", collect, [])
    .option('--set <path=value>', 'override a recipe value, e.g. --set data.train.sources.0.n=100 (repeatable)', collect, [])
    .option('--plugin <specifier...>', 'load extra plugin packages (targets, datasets)')
    .option('--force', 'replace a non-empty --out folder that is not a bundle mmft wrote')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((recipe: string, o: HandoffOptions) => runHandoff(ctx, recipe, o));
}
