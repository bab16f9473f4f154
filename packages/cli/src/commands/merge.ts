// `mmft merge --base DIR --adapter DIR --out DIR`: folds a saved adapter into its base model and
// writes a full checkpoint in Hugging Face layout, as PEFT's merge_and_unload() followed by
// save_pretrained() (peft/tuners/lora/model.py). The architecture comes from config.json's
// model_type, the method from adapter_config.json's peft_type, both through the registry. --out
// follows core's output-folder rule: never --base or --adapter, a foreign folder only with --force.
import * as path from 'node:path';
import { Command } from 'commander';
import {
  architectureContext,
  checkOutputFolder,
  describeTrainable,
  loadAdapter,
  MmftError,
  parseConfig,
  readAdapterConfig,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import type { CliContext } from '../context';
import { describeDerivedModel } from './card';

interface MergeOptions {
  base: string;
  adapter: string;
  out: string;
  force?: boolean;
  plugin?: string[];
}

/** Runs the merge; exported for programmatic use and tests. */
export async function runMerge(ctx: CliContext, o: MergeOptions): Promise<void> {
  const [base, adapter, out] = [o.base, o.adapter, o.out].map((p) => path.resolve(ctx.cwd, p)) as [string, string, string];
  checkOutputFolder(out, {
    kind: 'model',
    flag: '--out',
    force: o.force,
    protect: [
      { path: base, role: '--base' },
      { path: adapter, role: '--adapter' },
    ],
  });
  const modelType = await readModelType(base);
  const registry = await ctx.createRegistry(o.plugin ?? []);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(base, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const { peft_type: peftType } = await readAdapterConfig(adapter);
  const model = await architecture.fromPretrained(base, {}, architectureContext(registry));
  try {
    const { applied, provider } = await loadAdapter(adapter, model.root, registry.list('peft'), {
      renameKey: model.checkpointKeyName?.bind(model),
    });
    if (!applied.merge) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `${adapter}: ${provider.id} (${peftType}) adapters cannot be merged into the base weights; only weight-delta methods such as LoRA can`,
        {
          hint: 'use the adapter unmerged: model.adapter: <dir> in a recipe, or mmft eval recipe <recipe> --adapter <dir>',
        },
      );
    }
    ctx.print(`adapter: ${provider.id} (${peftType}); ${describeTrainable(model.root).line}`);
    applied.merge();
    applied.remove(); // merge + remove = merge_and_unload: the base's own module names come back
    await model.save(out, { force: true }); // checked above, before the slow part
    await describeDerivedModel(out, {
      step: { kind: 'merge', model_type: modelType, peft_type: peftType, method: provider.id },
      base,
      adapter,
    });
    ctx.print(`wrote merged ${modelType} checkpoint to ${o.out} (with README.md and provenance.json)`);
  } finally {
    model.dispose();
  }
}

/**
 * The `merge` command.
 *
 * @example
 * program.addCommand(mergeCommand(ctx)); // mmft merge --base models/clip --adapter runs/x/adapter --out models/clip-merged
 */
export function mergeCommand(ctx: CliContext): Command {
  return new Command('merge')
    .description('Fold a saved adapter (LoRA) into its base model and write a full Hugging Face checkpoint')
    .requiredOption('--base <dir>', 'base checkpoint folder (config.json + model.safetensors)')
    .requiredOption('--adapter <dir>', 'adapter folder (adapter_config.json + adapter_model.safetensors, PEFT layout)')
    .requiredOption('--out <dir>', 'where to write the merged checkpoint (a new or empty folder, or a model folder mmft wrote)')
    .option('--force', 'replace a non-empty --out folder that is not a model folder mmft wrote (never --base or --adapter)')
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures, PEFT methods)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((o: MergeOptions) => runMerge(ctx, o));
}
