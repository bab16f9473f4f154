// `mmft card <dir>`: rewrite the model card (README.md) of a saved model or adapter folder from its
// provenance.json, refreshing the train step's scores from trainer_state.json when the checkpoint
// has one, and keeping what the user wrote under "Intended uses & limitations". Also the helper
// `mmft merge` and `mmft quantize` call to give the folders they write a provenance and a card.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import {
  buildProvenance,
  describeBase,
  environment,
  readProvenance,
  writeProvenanceAndCard,
  PROVENANCE_FILE,
  type Provenance,
  type ProvenanceStep,
} from '@mmft/core/trust';
import type { CliContext } from '../context';

const readJson = async (file: string): Promise<Record<string, unknown> | undefined> =>
  fs.readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => undefined,
  );

/** Write README.md in `dir` from `provenance` (and provenance.json), keeping the user's section of the card already there. */
export async function writeCard(dir: string, provenance: Provenance): Promise<string> {
  await writeProvenanceAndCard(dir, provenance);
  return path.join(dir, 'README.md');
}

/**
 * Provenance and card for a folder `mmft merge` or `mmft quantize` wrote: the source folder is the
 * base (its provenance inlined); the adapter's (merge) or the source's (quantize) recipe and data
 * carry over so the card still names the training data; the step is appended.
 */
export async function describeDerivedModel(out: string, parts: { step: ProvenanceStep; base: string; adapter?: string }): Promise<void> {
  const base = await describeBase(parts.base);
  const adapter = parts.adapter ? await describeBase(parts.adapter) : undefined;
  const trained = adapter?.provenance ?? base.provenance;
  const step: ProvenanceStep = adapter ? { ...parts.step, adapter: { path: adapter.path, files: adapter.files } } : parts.step;
  const provenance = buildProvenance({
    recipe: trained?.recipe ?? null,
    inputs: trained?.inputs ?? [],
    base,
    data_manifests: trained?.data_manifests ?? [],
    steps: [...(adapter?.provenance?.steps ?? []), step],
    environment: environment(),
    ...(trained?.licences ? { licences: trained.licences } : {}),
  });
  await writeProvenanceAndCard(out, provenance);
}

/** The folders under `dir` that hold a provenance.json: itself, or its model/ and adapter/ (a checkpoint folder). */
async function cardFolders(dir: string): Promise<string[]> {
  if (await readProvenance(dir)) return [dir];
  const found: string[] = [];
  for (const sub of ['model', 'adapter']) if (await readProvenance(path.join(dir, sub))) found.push(path.join(dir, sub));
  return found;
}

/** The latest scores in a checkpoint's trainer_state.json (dir or its checkpoint parent), to refresh the train step. */
async function refreshTrainStep(dir: string, provenance: Provenance): Promise<Provenance> {
  const state =
    (await readJson(path.join(dir, 'trainer_state.json'))) ?? (await readJson(path.join(path.dirname(dir), 'trainer_state.json')));
  const history = Array.isArray(state?.logHistory) ? (state.logHistory as Array<Record<string, unknown>>) : undefined;
  if (!state || !history) return provenance;
  const scores = (e: Record<string, unknown> | undefined) =>
    e &&
    Object.fromEntries(
      Object.entries(e).filter((kv): kv is [string, number] => kv[0] !== 'kind' && kv[0] !== 'step' && typeof kv[1] === 'number'),
    );
  const evals = history.filter((e) => e.kind === 'eval');
  const before = scores(evals.find((e) => e.step === 0));
  const lastEval = evals[evals.length - 1];
  const after = lastEval && lastEval.step !== 0 ? scores(lastEval) : undefined;
  const steps = provenance.steps.map((s) =>
    s.kind === 'train'
      ? {
          ...s,
          steps: typeof state.globalStep === 'number' ? state.globalStep : s.steps,
          samples: typeof state.samplesSeen === 'number' ? state.samplesSeen : s.samples,
          metrics: { ...(before ? { before } : {}), ...(after ? { after } : {}) },
        }
      : s,
  );
  return { ...provenance, steps };
}

/** Rewrite the README.md of `dir` (a model/adapter folder, or a checkpoint folder holding them). Returns the files written. */
export async function regenerateCards(dir: string): Promise<string[]> {
  const folders = await cardFolders(dir);
  if (folders.length === 0) {
    throw new MmftError('E_INPUT', `${dir} has no ${PROVENANCE_FILE}, nor model/ or adapter/ folders holding one`, {
      hint: 'give a model or adapter folder that mmft train, merge or quantize wrote (e.g. runs/<name>/checkpoint-last), or retrain to record provenance',
    });
  }
  const written: string[] = [];
  for (const folder of folders) written.push(await writeCard(folder, await refreshTrainStep(folder, (await readProvenance(folder))!)));
  return written;
}

/**
 * The `card` command.
 *
 * @example
 * mmft card runs/clip-shapes-lora/checkpoint-last
 */
export function cardCommand(ctx: CliContext): Command {
  return new Command('card')
    .description('regenerate the model card (README.md, Hugging Face format) of a saved model or adapter from its provenance.json')
    .argument('<dir>', 'model or adapter folder, or a checkpoint folder holding model/ or adapter/')
    .action(async (dir: string) => {
      for (const file of await regenerateCards(path.resolve(ctx.cwd, dir))) ctx.print(`wrote ${file}`);
    });
}
