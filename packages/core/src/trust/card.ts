// Model cards: README.md in Hugging Face's format, YAML metadata between `---` lines and a markdown
// body. Metadata keys follow huggingface_hub src/huggingface_hub/repocard_data.py (ModelCardData:
// license, library_name, tags, datasets, language, base_model as a card kwarg; EvalResult and
// eval_results_to_model_index for `model-index`), and the body borrows the section order of
// src/huggingface_hub/templates/modelcard_template.md (details, uses & limitations, training,
// evaluation, technical specifications). The card is rendered from provenance.json, so `mmft card`
// can redo it at any time; the user's "Intended uses & limitations" text is carried over.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { MmftError } from '../errors';
import { readFolderMarker, writeFolderMarker } from '../io/folder-marker';
import type { Provenance, ProvenanceInput, ProvenanceStep } from './provenance';
import { cardLicence } from './licence';
import { licensedSources, provenanceChain, writeProvenance } from './provenance';

/** One `model-index` result: HF's EvalResult fields grouped as eval_results_to_model_index writes them. */
export interface CardEvalResult {
  readonly task: { readonly type: string; readonly name?: string };
  readonly dataset: { readonly name: string; readonly type: string; readonly split?: string };
  readonly metrics: ReadonlyArray<{ readonly type: string; readonly value: number; readonly name?: string }>;
}

export interface ModelCardInput {
  /** Name of the model in the heading and in `model-index`. */
  readonly modelName: string;
  readonly baseModel?: string;
  readonly license?: string;
  /** Why no licence is stated (body only). */
  readonly licenseNote?: string;
  readonly datasets?: readonly string[];
  readonly language?: readonly string[];
  readonly tags: readonly string[];
  readonly pipelineTag?: string;
  readonly evalResults?: readonly CardEvalResult[];
  /** One-paragraph summary under the heading. */
  readonly summary?: string;
  /** Base chain, newest first: "base → fine-tune → this". */
  readonly lineage?: readonly string[];
  readonly data?: readonly ProvenanceInput[];
  readonly training?: { readonly steps: number; readonly samples: number; readonly seconds: number; readonly totalSteps?: number };
  readonly metrics?: { readonly before?: Readonly<Record<string, number>>; readonly after?: Readonly<Record<string, number>> };
  readonly recipe?: unknown;
  readonly environment?: Readonly<Record<string, unknown>>;
  readonly steps?: readonly ProvenanceStep[];
  /** Text of "Intended uses & limitations" to keep (from the previous card). */
  readonly intendedUses?: string;
  readonly warnings?: readonly string[];
}

export const INTENDED_USES_HEADING = '## Intended uses & limitations';
export const INTENDED_USES_TODO =
  '> **TODO (model author):** say what this model is for, what it must not be used for, the languages and image domains it was trained on, and the known failure modes and biases. `mmft card` keeps whatever you write in this section.';

/** The card's YAML metadata, keys in ModelCardData order, absent values left out (as its _remove_none does). */
export function cardMetadata(input: ModelCardInput): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (input.baseModel) data.base_model = input.baseModel;
  data.library_name = 'mmft';
  if (input.license) data.license = input.license;
  if (input.datasets && input.datasets.length > 0) data.datasets = [...input.datasets];
  if (input.language && input.language.length > 0) data.language = [...input.language];
  data.tags = [...new Set(input.tags)];
  if (input.pipelineTag) data.pipeline_tag = input.pipelineTag;
  if (input.evalResults && input.evalResults.length > 0) {
    data['model-index'] = [
      {
        name: input.modelName,
        results: input.evalResults.map((r) => ({
          task: r.task.name ? { type: r.task.type, name: r.task.name } : { type: r.task.type },
          dataset: { name: r.dataset.name, type: r.dataset.type, ...(r.dataset.split ? { split: r.dataset.split } : {}) },
          metrics: r.metrics.map((m) => ({ type: m.type, value: m.value, ...(m.name ? { name: m.name } : {}) })),
        })),
      },
    ];
  }
  return data;
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(5));
const cell = (s: unknown) =>
  String(s ?? '–')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const table = (head: string[], rows: unknown[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

function dataSection(data: readonly ProvenanceInput[]): string {
  const files = data.filter((d) => d.generator === undefined);
  const generated = data.filter((d) => d.generator !== undefined);
  const parts: string[] = [];
  if (files.length > 0) {
    parts.push(
      table(
        ['role', 'file', 'sha256', 'records', 'images', 'licence'],
        files.map((d) => [
          d.role,
          `\`${path.basename(d.path ?? '')}\``,
          d.sha256 ? `\`${d.sha256}\`` : '–',
          d.records ?? '–',
          d.images
            ? `${d.images.count} (\`${d.images.sha256.slice(0, 16)}…\`)`
            : d.listing
              ? `${d.listing.count} files, ${d.listing.bytes} bytes (listing \`${d.listing.sha256.slice(0, 16)}…\`)`
              : '–',
          d.license ?? 'not recorded',
        ]),
      ),
    );
  }
  if (generated.length > 0) {
    parts.push(
      table(
        ['role', 'generator', 'seed', 'n', 'settings'],
        generated.map((d) => {
          const { seed, n, ...rest } = d.settings ?? {};
          return [d.role, d.generator, seed ?? '–', n ?? '–', `\`${JSON.stringify(rest)}\``];
        }),
      ),
    );
  }
  return parts.length > 0 ? parts.join('\n\n') : 'No data was recorded for this folder.';
}

function metricsSection(before: Readonly<Record<string, number>> = {}, after: Readonly<Record<string, number>> = {}): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (keys.length === 0) return 'No evaluation was run (add data.eval and metrics: to the recipe).';
  return table(
    ['metric', 'before', 'after', 'change'],
    keys.map((k) => [
      k,
      fmt(before[k]),
      fmt(after[k]),
      before[k] !== undefined && after[k] !== undefined ? fmt(after[k]! - before[k]!) : '–',
    ]),
  );
}

/**
 * The card as text: `---`, YAML metadata, `---`, markdown body.
 *
 * @example
 * await fs.writeFile('README.md', renderModelCard(cardInputFromProvenance(provenance, { folder: 'adapter' })));
 */
export function renderModelCard(input: ModelCardInput): string {
  const lines: string[] = ['---', stringify(cardMetadata(input), { lineWidth: 0 }).trimEnd(), '---', '', `# ${input.modelName}`, ''];
  if (input.summary) lines.push(input.summary, '');
  lines.push('## Model details', '');
  if (input.baseModel) lines.push(`- **Finetuned from:** \`${input.baseModel}\``);
  lines.push(`- **Library:** mmft`);
  lines.push(`- **License:** ${input.license ?? 'not stated'}`);
  if (input.licenseNote) lines.push(`  - ${input.licenseNote}`);
  if (input.lineage && input.lineage.length > 0) lines.push(`- **Lineage (newest first):** ${input.lineage.join(' ← ')}`);
  lines.push('', INTENDED_USES_HEADING, '', (input.intendedUses ?? '').trim() || INTENDED_USES_TODO, '');
  lines.push('## Training data', '', dataSection(input.data ?? []), '');
  if (input.warnings && input.warnings.length > 0) lines.push(...input.warnings.map((w) => `> **Warning:** ${w}`), '');
  lines.push('## Training procedure', '');
  if (input.training) {
    const t = input.training;
    lines.push(
      `- **Steps:** ${t.steps}${t.totalSteps !== undefined ? ` of ${t.totalSteps}` : ''}`,
      `- **Samples seen:** ${t.samples}`,
      `- **Training time:** ${t.seconds.toFixed(1)} s (optimizer steps only)`,
    );
  }
  for (const s of input.steps ?? []) if (s.kind !== 'train') lines.push(`- **${s.kind}:** \`${JSON.stringify(s)}\``);
  if (input.recipe !== undefined)
    lines.push('', '### Recipe (resolved)', '', '```yaml', stringify(input.recipe, { lineWidth: 0 }).trimEnd(), '```');
  lines.push('', '## Evaluation', '', metricsSection(input.metrics?.before, input.metrics?.after), '');
  lines.push('## Environment', '');
  for (const [k, v] of Object.entries(input.environment ?? {}))
    lines.push(`- **${k}:** ${Array.isArray(v) ? v.join(', ') || 'none' : String(v)}`);
  lines.push(
    '',
    '## Provenance',
    '',
    '`provenance.json` beside this file records every input with its sha256, the base model chain and the environment. Regenerate this card with `mmft card <this folder>`.',
    '',
  );
  return lines.join('\n');
}

/**
 * Split a card into its YAML metadata and body (huggingface_hub repocard.py reads the same
 * `---` block at the very start). A card without metadata has `data: {}`.
 */
export function parseModelCard(text: string): { data: Record<string, unknown>; body: string } {
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const match = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(normalised);
  if (!match) return { data: {}, body: normalised };
  let data: unknown;
  try {
    data = parse(match[1]!);
  } catch (cause) {
    throw new MmftError('E_INPUT', `the model card's YAML metadata does not parse: ${(cause as Error).message}`, { cause });
  }
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw new MmftError('E_INPUT', "the model card's YAML metadata is not a mapping of keys to values");
  }
  return { data: (data ?? {}) as Record<string, unknown>, body: normalised.slice(match[0].length) };
}

/** The user's text of "Intended uses & limitations" (up to the next `## ` heading), unless it is still the TODO. */
export function intendedUsesOf(body: string): string | undefined {
  const start = body.indexOf(`${INTENDED_USES_HEADING}\n`);
  if (start === -1) return undefined;
  const rest = body.slice(start + INTENDED_USES_HEADING.length + 1);
  const end = rest.search(/^## /m);
  const text = (end === -1 ? rest : rest.slice(0, end)).trim();
  return text === '' || text === INTENDED_USES_TODO ? undefined : text;
}

// HF pipeline tags (huggingface.js packages/tasks pipelines) by the architecture's job.
const PIPELINE_BY_ARCH: Readonly<Record<string, string>> = {
  clip: 'zero-shot-image-classification',
  blip2: 'image-to-text',
  'blip-2': 'image-to-text',
  llava: 'image-to-text',
  gpt2: 'text-generation',
  opt: 'text-generation',
  llama: 'text-generation',
};
const TASK_NAMES: Readonly<Record<string, string>> = {
  'zero-shot-image-classification': 'Zero-Shot Image Classification',
  'feature-extraction': 'Feature Extraction',
  'image-to-text': 'Image-to-Text',
  'text-generation': 'Text Generation',
};

/** The pipeline tag of an architecture (`feature-extraction` for a CLIP trained as a feature extractor). */
export function pipelineTagOf(arch: string | undefined, strategy?: string): string | undefined {
  if (arch === 'clip' && strategy === 'feature-based') return 'feature-extraction';
  return arch ? PIPELINE_BY_ARCH[arch] : undefined;
}

const sectionOf = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A short, shareable name for a data input: the file name, or the generator. */
export function datasetName(input: ProvenanceInput): string {
  return input.generator !== undefined
    ? `mmft-${input.generator}`
    : path.basename(input.path ?? input.role).replace(/\.(jsonl|json|ndjson)$/, '');
}

/** A folder's short label: `run/checkpoint-last/model` for a checkpoint's model or adapter folder, else its name. */
export function folderLabel(dir: string): string {
  const name = path.basename(dir);
  const parent = path.basename(path.dirname(dir));
  return (name === 'model' || name === 'adapter') && parent.startsWith('checkpoint-')
    ? `${path.basename(path.dirname(path.dirname(dir)))}/${parent}/${name}`
    : name;
}

/**
 * The name a base folder goes by on a card: the recipe name of the run that wrote it when it has a
 * provenance, else its folder label. Hub ids are not known for local folders.
 */
export function baseModelName(base: Provenance['base']): string | undefined {
  if (!base) return undefined;
  const resolved = base.provenance?.recipe?.resolved;
  const name = typeof resolved === 'object' && resolved !== null ? (resolved as Record<string, unknown>).name : undefined;
  return typeof name === 'string' && name !== '' ? name : folderLabel(base.path);
}

/**
 * The card of a folder from its provenance.json: metadata, data table, the train step's counts and
 * scores, environment, lineage. `previousBody` (the old README body) keeps the user's section.
 */
export function cardInputFromProvenance(p: Provenance, opts: { folder?: string; previousBody?: string } = {}): ModelCardInput {
  const recipe = sectionOf(p.recipe?.resolved);
  const model = sectionOf(recipe.model);
  const peft = sectionOf(recipe.peft);
  const train = sectionOf(recipe.train);
  const card = sectionOf(recipe.card);
  // merge and quantize steps name the model_type of the folder they wrote (no recipe of their own).
  const stepArch = [...p.steps].reverse().find((s) => typeof s.model_type === 'string')?.model_type as string | undefined;
  const arch = typeof model.type === 'string' ? model.type : stepArch;
  const last = p.steps[p.steps.length - 1];
  const method = typeof peft.method === 'string' ? peft.method : undefined;
  const quant = sectionOf(model.quantization);
  const tags = ['mmft', ...(arch ? [arch] : [])];
  if (method) tags.push(method);
  if (method === 'lora' && quant.load_in_4bit === true) tags.push('qlora');
  if (p.steps.some((s) => s.kind === 'quantize')) tags.push('4-bit', 'bitsandbytes');
  if (Array.isArray(card.tags)) tags.push(...card.tags.filter((t): t is string => typeof t === 'string'));
  const pipelineTag = pipelineTagOf(arch, typeof train.strategy === 'string' ? train.strategy : undefined);
  const trainStep = [...p.steps].reverse().find((s) => s.kind === 'train') as
    | (ProvenanceStep & {
        steps?: number;
        total_steps?: number;
        samples?: number;
        seconds?: number;
        metrics?: { before?: Record<string, number>; after?: Record<string, number> };
      })
    | undefined;
  const lic = cardLicence(typeof card.license === 'string' ? card.license : undefined, licensedSources(p.inputs));
  const trainInputs = p.inputs.filter((i) => !i.role.startsWith('data.eval'));
  const evalInput = p.inputs.find((i) => i.role.startsWith('data.eval'));
  const after = trainStep?.metrics?.after ?? {};
  const evalResults: CardEvalResult[] =
    pipelineTag && evalInput && Object.keys(after).length > 0
      ? [
          {
            task: { type: pipelineTag, ...(TASK_NAMES[pipelineTag] ? { name: TASK_NAMES[pipelineTag] } : {}) },
            dataset: { name: datasetName(evalInput), type: datasetName(evalInput), split: 'eval' },
            metrics: Object.entries(after).map(([k, v]) => ({ type: k, value: v, name: k })),
          },
        ]
      : [];
  const chain = provenanceChain(p);
  const lineage = [opts.folder ?? 'this folder', ...chain.filter((c) => c.base).map((c) => baseModelName(c.base)!)];
  const name = typeof recipe.name === 'string' ? recipe.name : path.basename(path.dirname(p.recipe?.path ?? 'model'));
  const kind =
    last?.kind === 'quantize'
      ? '4-bit quantised model'
      : last?.kind === 'merge'
        ? `model with a ${method ?? 'PEFT'} adapter merged in`
        : method
          ? `${method} adapter`
          : 'fine-tuned model';
  const base = baseModelName(p.base);
  return {
    modelName: name,
    ...(base ? { baseModel: base } : {}),
    ...(lic.license ? { license: lic.license } : {}),
    ...(lic.note ? { licenseNote: lic.note } : {}),
    datasets: [...new Set(trainInputs.filter((i) => !i.role.endsWith('.images')).map(datasetName))],
    ...(Array.isArray(card.language) ? { language: card.language.filter((l): l is string => typeof l === 'string') } : {}),
    tags,
    ...(pipelineTag ? { pipelineTag } : {}),
    evalResults,
    summary: `A ${kind}${arch ? ` (${arch})` : ''}${base ? ` from \`${base}\`` : ''}, made with mmft.`,
    lineage,
    data: p.inputs,
    ...(trainStep
      ? {
          training: {
            steps: trainStep.steps ?? 0,
            samples: trainStep.samples ?? 0,
            seconds: trainStep.seconds ?? 0,
            ...(trainStep.total_steps !== undefined ? { totalSteps: trainStep.total_steps } : {}),
          },
          metrics: trainStep.metrics ?? {},
        }
      : {}),
    ...(p.recipe ? { recipe: p.recipe.resolved } : {}),
    environment: p.environment,
    steps: p.steps,
    warnings: [
      ...(p.licences?.warnings ?? []),
      ...(p.accepted_change ?? []).map(
        (a) => `${a.file} changed since its manifest and was used anyway (--accept-data-change): ${a.changed.join('; ')}`,
      ),
    ],
    ...(opts.previousBody !== undefined && intendedUsesOf(opts.previousBody) !== undefined
      ? { intendedUses: intendedUsesOf(opts.previousBody) }
      : {}),
  };
}

/**
 * Write provenance.json and README.md into `dir`. The card keeps the "Intended uses" text of
 * `previousCard` (default: the README.md already in `dir`). A folder mmft wrote as a whole keeps a
 * completion marker listing its entries (core io/folder-marker.ts); the two files join that list so
 * the folder stays one mmft may replace.
 */
export async function writeProvenanceAndCard(
  dir: string,
  provenance: Provenance,
  opts: { previousCard?: string; folder?: string } = {},
): Promise<void> {
  const previous = opts.previousCard ?? (await fs.readFile(path.join(dir, 'README.md'), 'utf8').catch(() => undefined));
  const previousBody = previous === undefined ? undefined : parseModelCard(previous).body;
  await writeProvenance(dir, provenance);
  const card = cardInputFromProvenance(provenance, {
    folder: opts.folder ?? path.basename(dir),
    ...(previousBody !== undefined ? { previousBody } : {}),
  });
  await fs.writeFile(path.join(dir, 'README.md'), renderModelCard(card));
  const marker = readFolderMarker(dir);
  if (marker && !(marker.entries.includes('README.md') && marker.entries.includes('provenance.json')))
    await writeFolderMarker(dir, marker.kind);
}
