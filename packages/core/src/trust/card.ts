// Model cards: README.md in Hugging Face's format, YAML metadata between `---` lines and a markdown
// body. Metadata keys follow huggingface_hub src/huggingface_hub/repocard_data.py (ModelCardData:
// license, library_name, tags, datasets, language, base_model as a card kwarg; EvalResult and
// eval_results_to_model_index for `model-index`), and the body borrows the section order of
// src/huggingface_hub/templates/modelcard_template.md (details, uses & limitations, training,
// evaluation, technical specifications). The card is rendered from provenance.json, so `mmft card`
// can redo it at any time; the user's "Intended uses & limitations" text is carried over.
// The front matter lives in ./card-metadata.ts and the body in ./card-body.ts; this file builds a
// card's input from provenance.json and writes both files.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readFolderMarker, writeFolderMarker } from '../io/folder-marker';
import { intendedUsesOf, renderModelCard } from './card-body';
import { TASK_NAMES, parseModelCard, pipelineTagOf, type CardEvalResult, type ModelCardInput } from './card-metadata';
import type { Provenance, ProvenanceInput, ProvenanceStep } from './provenance';
import { cardLicence } from './licence';
import { licensedSources, provenanceChain, writeProvenance } from './provenance';

export { INTENDED_USES_HEADING, INTENDED_USES_TODO, intendedUsesOf, renderModelCard } from './card-body';
export { cardMetadata, parseModelCard, pipelineTagOf, type CardEvalResult, type ModelCardInput } from './card-metadata';

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
