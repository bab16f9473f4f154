// What a run records beside every model or adapter folder it saves: provenance.json (inputs with
// their hashes, the base's own provenance inlined, recipe and git state, environment, this run's
// train step) and the model card README.md rendered from it (@mmft/core/trust). The data files
// are hashed and checked against their manifests once, before the model loads, so a changed
// dataset stops the run at once (E_DATA_CHANGED) unless --accept-data-change.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RunContext } from '@mmft/core';
import {
  buildProvenance,
  checkLicences,
  collectDataInputs,
  describeBase,
  describeRecipe,
  environment,
  licensedSources,
  writeProvenanceAndCard,
  type Provenance,
} from '@mmft/core/trust';
import type { TrainConfig } from '../config';
import type { TrainerState } from '../checkpoint/trainer-state';
import { scoresOf } from './final-summary';

/** The folders a checkpoint holds a model in (saveModelFiles in policies.ts). */
const MODEL_FOLDERS = ['model', 'adapter'] as const;

const sectionOf = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export interface RunProvenance {
  /** Write provenance.json and README.md into each model/adapter folder of a (staged) checkpoint folder. */
  describe(checkpointDir: string, state: TrainerState, seconds: number): Promise<void>;
}

/**
 * Hash and check the run's inputs (refusing changed data), warn about incompatible licences, and
 * return the writer the checkpoint saves call.
 *
 * @example
 * const provenance = await prepareRunProvenance(config, context);
 * await provenance.describe(stagedDir, state, trainSeconds);
 */
export async function prepareRunProvenance(config: TrainConfig, context: RunContext): Promise<RunProvenance> {
  const recipe = context.recipe;
  const data = await collectDataInputs(recipe.data, context.baseDir, { acceptDataChange: context.acceptDataChange === true });
  for (const a of data.accepted)
    context.reporter.warn(
      `${a.file} changed since its manifest (${a.changed.join('; ')}); going on (--accept-data-change), recorded in provenance.json`,
    );
  const trainInputs = data.inputs.filter((i) => i.role.startsWith('data.train'));
  const incompatible = sectionOf(recipe.trust).incompatible_licenses as Array<[string, string]> | undefined;
  const licences = checkLicences(licensedSources(trainInputs), incompatible ?? []);
  for (const w of licences.warnings) context.reporter.warn(w);
  const model = sectionOf(recipe.model);
  // A missing base or adapter folder is the model loader's to report (with its hint), so it is skipped here.
  const folder = async (p: unknown) =>
    typeof p === 'string' && (await isDir(path.resolve(context.baseDir, p))) ? describeBase(path.resolve(context.baseDir, p)) : undefined;
  const base = (await folder(model.checkpoint)) ?? null;
  const adapter = await folder(model.adapter);
  const recipeInfo = context.recipeFile
    ? await describeRecipe(context.recipeFile, recipe)
    : { path: '', sha256: '', git: { none: 'the run was started without a recipe file' }, resolved: recipe };
  let env: Record<string, unknown> | undefined;
  return {
    async describe(checkpointDir, state, seconds) {
      // The engine is selected after this was prepared (setupRun), so it is read at the first save.
      env ??= environment();
      const evals = state.logHistory.filter((e) => e.kind === 'eval');
      const before = scoresOf(evals.find((e) => e.step === 0));
      const after = evals.length > 0 && evals[evals.length - 1]!.step !== 0 ? scoresOf(evals[evals.length - 1]) : undefined;
      const step = {
        kind: 'train' as const,
        output: context.outputDir,
        ...(context.resumeFrom ? { resumed_from: context.resumeFrom } : {}),
        steps: state.globalStep,
        total_steps: state.totalSteps,
        samples: state.samplesSeen,
        epoch: state.epoch,
        seconds: Math.round(seconds * 1000) / 1000,
        seed: state.rng.seed,
        batch_size: config.batch_size,
        lr: config.lr,
        metrics: { ...(before ? { before } : {}), ...(after ? { after } : {}) },
        ...(adapter ? { started_from_adapter: adapter } : {}),
      };
      const provenance: Provenance = buildProvenance({
        recipe: recipeInfo,
        inputs: data.inputs,
        base,
        data_manifests: data.manifests,
        steps: [step],
        environment: env,
        ...(data.accepted.length > 0 ? { accepted_change: data.accepted } : {}),
        licences: { licenses: licences.licenses, warnings: licences.warnings },
      });
      const present = [];
      for (const name of MODEL_FOLDERS) {
        if (await isDir(path.join(checkpointDir, name))) present.push(name);
      }
      // A feature-head objective saves no model folder: the checkpoint itself is described.
      const targets = present.length > 0 ? present : ['.'];
      for (const name of targets) {
        // The user's "Intended uses" text lives in the card the previous save wrote.
        const previousCard = await fs
          .readFile(path.join(context.outputDir, 'checkpoint-last', name, 'README.md'), 'utf8')
          .catch(() => undefined);
        await writeProvenanceAndCard(path.join(checkpointDir, name), provenance, {
          folder: name === '.' ? 'checkpoint' : name,
          ...(previousCard !== undefined ? { previousCard } : {}),
        });
      }
    },
  };
}

const isDir = (p: string) =>
  fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
