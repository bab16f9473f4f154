// `mmft import <engine-output-dir> --out DIR`: brings back what LLaMA-Factory, ms-swift or a
// Hugging Face Trainer + peft script (an `mmft handoff` bundle, or any run of theirs) trained. It takes
// the folder itself, its newest checkpoint-<N>, or ms-swift's newest v<N>-<time>/checkpoint-<N>
// (import/locate.ts), checks that the adapter or full checkpoint loads into mmft's model with every
// tensor landing (import/check.ts), and writes DIR with the engine's files byte for byte plus
// import.json, a folder every mmft command takes. Layouts: peft/utils/save_and_load.py (adapters),
// transformers/modeling_utils.py save_pretrained (sharded model.safetensors.index.json).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { checkOutputFolder, MmftError, readAdapterConfig } from '@mmft/core';
import { writeFileDurable, writeFolder } from '@mmft/core/io';
import type { CliContext } from '../context';
import { checkAdapter, checkModel, resolveBase, tensorStats, type ResolvedBase } from '../import/check';
import { explicitTargets } from '../import/targets';
import { detectEngine, findManifest, MANIFEST_FILE } from '../import/engine';
import { kindOf, locateImport } from '../import/locate';
import { modelFilesOf } from '../import/model-files';

interface ImportOptions {
  out: string;
  base?: string;
  checkpoint?: string;
  check: boolean;
  force?: boolean;
  plugin?: string[];
}

/** import.json, written beside the imported files. */
export interface ImportRecord {
  readonly format: 1;
  readonly kind: 'adapter' | 'model';
  readonly engine: string;
  readonly evidence: readonly string[];
  readonly source: string;
  readonly checkpoint: string | null;
  readonly step: number | null;
  readonly base: { readonly path: string; readonly from: string } | null;
  readonly files: readonly string[];
  /** adapter_config.json fields mmft rewrote (the engine's file is kept as adapter_config.source.json), or null. */
  readonly rewritten: Record<string, unknown> | null;
  readonly checked: Record<string, unknown> | null;
}

const IMPORT_RECORD = 'import.json';
const ADAPTER_CONFIG = 'adapter_config.json';
const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const SOURCE_CONFIG = 'adapter_config.source.json';
const jsonBytes = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/** Runs the import; exported for programmatic use and tests. */
export async function runImport(ctx: CliContext, given: string, o: ImportOptions): Promise<ImportRecord> {
  const out = path.resolve(ctx.cwd, o.out);
  const show = (p: string) => (p.startsWith(ctx.cwd + path.sep) ? path.relative(ctx.cwd, p) : p);
  let sourceRoot = path.resolve(ctx.cwd, given);
  // The bundle folder itself: its manifest says where the engine wrote the result.
  const bundle = fs.existsSync(path.join(sourceRoot, MANIFEST_FILE)) && !kindOf(sourceRoot) ? findManifest(sourceRoot) : undefined;
  if (bundle?.output && fs.existsSync(path.join(sourceRoot, bundle.output))) {
    sourceRoot = path.join(sourceRoot, bundle.output);
    ctx.print(`bundle: ${MANIFEST_FILE} says the engine writes into ${bundle.output}/`);
  }
  const located = locateImport(sourceRoot, o.checkpoint);
  const engine = detectEngine(located.dir, sourceRoot);
  ctx.print(`import: ${show(located.dir)} (${located.reason})`);
  ctx.print(`engine: ${engine.engine}${engine.evidence.length ? ` (${engine.evidence.map(show).join(', ')})` : ''}`);

  let base: ResolvedBase | undefined;
  let adapterConfig: Record<string, unknown> | undefined;
  let model: ReturnType<typeof modelFilesOf> | undefined;
  if (located.kind === 'adapter') {
    if (!fs.existsSync(path.join(located.dir, ADAPTER_WEIGHTS))) {
      throw new MmftError('E_CHECKPOINT', `${located.dir}: adapter_config.json but no ${ADAPTER_WEIGHTS}`, {
        hint: fs.existsSync(path.join(located.dir, 'adapter_model.bin'))
          ? 'the adapter was saved as adapter_model.bin; save it with safe_serialization=True (the default of peft and the engines)'
          : 'the checkpoint is incomplete; pick another with --checkpoint',
      });
    }
    adapterConfig = await readAdapterConfig(located.dir);
    try {
      base = resolveBase({ base: o.base, cwd: ctx.cwd, adapterDir: located.dir, adapterConfig, engine });
    } catch (error) {
      if (o.check) throw error;
    }
  } else model = modelFilesOf(located.dir);
  checkOutputFolder(out, { kind: located.kind, flag: '--out', force: o.force, protect: protectedInputs(sourceRoot, base) });
  if (model?.skipped.length) ctx.print(`not copied (training state, not model files): ${model.skipped.join(', ')}`);

  let files: string[] = model?.files ?? [ADAPTER_CONFIG, ADAPTER_WEIGHTS];
  let rewritten: Record<string, unknown> | null = null;
  let checked: Record<string, unknown> | null = null;
  const registry = o.check ? await ctx.createRegistry(o.plugin ?? []) : undefined;
  let record: ImportRecord | undefined;
  // The check runs on the staged copy, so what is checked is exactly what is written; a failure
  // leaves --out as it was.
  await writeFolder(
    out,
    async (staged) => {
      for (const f of files) await fs.promises.copyFile(path.join(located.dir, f), path.join(staged, f));
      if (adapterConfig) {
        const explicit = explicitTargets(adapterConfig, path.join(located.dir, ADAPTER_WEIGHTS));
        if (explicit) {
          // Keep the engine's config as written beside the one mmft reads.
          await fs.promises.rename(path.join(staged, ADAPTER_CONFIG), path.join(staged, SOURCE_CONFIG));
          await writeFileDurable(path.join(staged, ADAPTER_CONFIG), jsonBytes(explicit.config));
          files = [ADAPTER_CONFIG, SOURCE_CONFIG, ADAPTER_WEIGHTS];
          rewritten = {
            target_modules: {
              from: adapterConfig.target_modules,
              to: `${explicit.modules.length} module names (the modules the adapter's lora_A/lora_B tensors name)`,
            },
            ...('exclude_modules' in adapterConfig ? { exclude_modules: { from: adapterConfig.exclude_modules, to: null } } : {}),
          };
          ctx.print(
            `target_modules ${short(adapterConfig.target_modules)} ${typeof adapterConfig.target_modules === 'string' ? 'is a regex over' : 'has partial paths of'} the engine's module names; ` +
              `${ADAPTER_CONFIG} lists the ${explicit.modules.length} modules the tensors name instead (the engine's file kept as ${SOURCE_CONFIG})`,
          );
        }
        if (registry && base) {
          const c = await checkAdapter(registry, base.dir, staged).catch((error: unknown) => {
            throw namingSource(error, staged, located.dir);
          });
          checked = {
            model_type: c.modelType,
            method: c.method,
            tensors: c.tensors,
            adapter_parameters: c.adapterParameters,
            trainable_parameters: c.trainable,
            all_parameters: c.total,
            dtypes: c.dtypes,
          };
          ctx.print(
            `checked: ${c.tensors} tensors (${dtypeList(c.dtypes)}) of a ${c.method} adapter land on ${c.modelType} ${show(base.dir)} (base from ${base.from})`,
          );
          ctx.print(`  ${c.line}`);
        } else ctx.print('not checked (--no-check): the adapter files are copied as they are');
      } else if (model) {
        const weights = model.weights.map((w) => path.join(staged, w));
        if (registry) {
          const c = await checkModel(registry, staged, weights).catch((error: unknown) => {
            throw namingSource(error, staged, located.dir);
          });
          checked = { model_type: c.modelType, tensors: c.tensors, parameters: c.parameters, dtypes: c.dtypes };
          ctx.print(
            `checked: ${c.modelType} checkpoint loads (${c.tensors} tensors, ${dtypeList(c.dtypes)}; ${c.parameters.toLocaleString('en-US')} parameters)`,
          );
        } else {
          const st = tensorStats(weights);
          ctx.print(`not checked (--no-check): ${st.tensors} tensors (${dtypeList(st.dtypes)}) copied as they are`);
        }
      }
      record = {
        format: 1,
        kind: located.kind,
        engine: engine.engine,
        evidence: engine.evidence,
        source: located.dir,
        checkpoint: located.checkpoint ?? null,
        step: engine.step ?? null,
        base: base ? { path: base.dir, from: base.from } : null,
        files,
        rewritten,
        checked,
      };
      await writeFileDurable(path.join(staged, IMPORT_RECORD), jsonBytes(record));
    },
    { kind: located.kind },
  );
  ctx.print(
    `wrote ${located.kind === 'adapter' ? 'the adapter' : 'the model folder'} to ${show(out)}: ${[...files, IMPORT_RECORD].join(', ')}`,
  );
  printNext(
    ctx,
    located.kind,
    show(out),
    base ? show(base.dir) : '<base-model-dir>',
    engine.manifest?.recipeFile ? show(engine.manifest.recipeFile) : undefined,
  );
  return record!;
}

/** A JSON value for one line of output, cut after 120 characters. */
function short(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The error with the staged copy's path replaced by the folder the user gave (messages name what they can open). */
function namingSource(error: unknown, staged: string, source: string): unknown {
  if (!(error instanceof MmftError) || !error.message.includes(staged)) return error;
  return new MmftError(error.code, error.message.split(staged).join(source), { cause: error, hint: error.hint });
}

function protectedInputs(sourceRoot: string, base?: ResolvedBase) {
  return [{ path: sourceRoot, role: '<engine-output-dir>' }, ...(base ? [{ path: base.dir, role: 'base model' }] : [])];
}

const dtypeList = (d: Readonly<Record<string, number>>) =>
  Object.entries(d)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');

function printNext(ctx: CliContext, kind: 'adapter' | 'model', out: string, base: string, recipe?: string): void {
  const r = recipe ?? '<recipe>';
  ctx.print('next:');
  const lines =
    kind === 'adapter'
      ? [
          `mmft eval recipe ${r} --adapter ${out}`,
          `mmft generate ${base} --adapter ${out} --prompt '…'`,
          `mmft serve ${base} --adapter ${out}`,
          `mmft export onnx ${base} --adapter ${out} --out ${out}-onnx`,
          `mmft merge --base ${base} --adapter ${out} --out ${out}-merged`,
        ]
      : [
          `mmft eval recipe ${r} --set model.checkpoint=${out}`,
          `mmft generate ${out} --prompt '…'`,
          `mmft serve ${out}`,
          `mmft export onnx ${out} --out ${out}-onnx`,
        ];
  for (const line of lines) ctx.print(`  ${line}`);
}

/**
 * The `import` command.
 *
 * @example
 * program.addCommand(importCommand(ctx)); // mmft import bundle/output --out runs/imported
 */
export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description(
      'Bring back an adapter or full checkpoint that LLaMA-Factory, ms-swift or a Trainer + peft run wrote, checked against the base, as a folder mmft commands take',
    )
    .argument('<engine-output-dir>', "the engine's output folder (output_dir, a checkpoint-<N> in it, or ms-swift's output/)")
    .requiredOption('--out <dir>', 'where to write the imported adapter or model (a new or empty folder, or one mmft import wrote)')
    .option('--base <dir>', "the base model folder of an adapter (default: the bundle's mmft-handoff.json, then base_model_name_or_path)")
    .option('--checkpoint <name>', 'take this checkpoint folder (checkpoint-200, or v0-…/checkpoint-200) instead of the newest')
    .option('--no-check', 'copy without loading the model (no base needed)')
    .option('--force', 'replace a non-empty --out folder that mmft did not write (never the input folders)')
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures, PEFT methods)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action(async (given: string, o: ImportOptions) => {
      await runImport(ctx, given, o);
    });
}
