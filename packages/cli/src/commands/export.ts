// `mmft export onnx <model-dir> --out DIR [--adapter DIR] [--check]`: loads a checkpoint folder
// through the registry (architecture by config.json's model_type), folds an adapter in as
// `mmft merge` does (PEFT's merge_and_unload, peft/tuners/lora/model.py), and hands the merged
// model to the `onnx` exporter plugin. --check runs the written graphs in onnxruntime-node next to
// the tfjs model and prints max |Δ| per output. --out follows core's output-folder rule.
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  architectureContext,
  checkOutputFolder,
  describeTrainable,
  loadAdapter,
  MmftError,
  parseConfig,
  type ExporterProvider,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { writeFolder } from '@mmft/core/io';
import type { CliContext } from '../context';

/** model_type values `mmft export onnx` writes (kept in step with @mmft/exporter-onnx's ONNX_MODEL_TYPES). */
export const ONNX_EXPORT_MODEL_TYPES: readonly string[] = ['clip', 'llama', 'opt', 'gpt2', 'llava', 'blip-2'];

interface ExportOnnxOptions {
  out: string;
  adapter?: string;
  check?: boolean;
  opset?: number;
  keep4bit?: boolean;
  force?: boolean;
  plugin?: string[];
}

/** Runs the export; exported for programmatic use and tests. */
export async function runExportOnnx(ctx: CliContext, modelDir: string, o: ExportOnnxOptions): Promise<void> {
  const base = path.resolve(ctx.cwd, modelDir);
  const out = path.resolve(ctx.cwd, o.out);
  const adapter = o.adapter ? path.resolve(ctx.cwd, o.adapter) : undefined;
  checkOutputFolder(out, {
    kind: 'onnx',
    flag: '--out',
    force: o.force,
    protect: [{ path: base, role: '<model-dir>' }, ...(adapter ? [{ path: adapter, role: '--adapter' }] : [])],
  });
  const modelType = await readModelType(base);
  if (!ONNX_EXPORT_MODEL_TYPES.includes(modelType)) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${path.join(modelDir, 'config.json')}: model_type "${modelType}" cannot be exported to ONNX yet; supported: ${ONNX_EXPORT_MODEL_TYPES.join(', ')}`,
      {
        hint: 'see docs/onnx.md for what is exported',
      },
    );
  }
  const registry = await ctx.createRegistry(o.plugin ?? []);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  const exporter = registry.resolve('exporter', 'onnx') as ExporterProvider;
  const config = parseConfig(exporter, { opset: o.opset ?? 17, sourceDir: base, ...(o.keep4bit ? { keep4bit: true } : {}) }) as {
    opset?: number;
  };
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(base, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(base, {}, architectureContext(registry));
  try {
    if (adapter) {
      const { applied, provider } = await loadAdapter(adapter, model.root, registry.list('peft'), {
        renameKey: model.checkpointKeyName?.bind(model),
      });
      if (!applied.merge) {
        throw new MmftError(
          'E_UNSUPPORTED',
          `${o.adapter}: ${provider.id} adapters cannot be merged into the base weights, and ONNX export writes merged weights only`,
          { hint: 'only weight-delta methods such as LoRA can be exported; serve other adapters with mmft serve <model> --adapter <dir>' },
        );
      }
      ctx.print(`adapter: ${provider.id}; ${describeTrainable(model.root).line}`);
      applied.merge();
      applied.remove(); // merge_and_unload: the base's own module names come back
    }
    let names: string[] = [];
    await writeFolder(
      out,
      async (staged) => {
        const result = await exporter.export(model, config, staged);
        names = result.files.map((f) => path.relative(staged, f));
      },
      { kind: 'onnx' },
    );
    ctx.print(`wrote ${modelType} as ONNX (opset ${config.opset ?? 17}) to ${o.out}: ${names.join(', ')}`);
    if (o.check) {
      if (!exporter.check) throw new MmftError('E_UNSUPPORTED', 'the onnx exporter plugin loaded has no parity check');
      const report = await exporter.check(model, out);
      for (const r of report.rows) {
        ctx.print(`check ${r.file} ${r.output} [${r.dims.join(', ')}]: max |Δ| ${r.maxAbsDiff.toExponential(2)}`);
      }
      if (!report.ok) {
        throw new MmftError(
          'E_NUMERIC',
          `${o.out}: onnxruntime-node and the tfjs model differ by up to ${report.maxAbsDiff.toExponential(2)} (tolerance ${report.tolerance})`,
          { hint: 'report it with the rows above; the exported graphs were kept for inspection' },
        );
      }
      ctx.print(`parity ok: max |Δ| ${report.maxAbsDiff.toExponential(2)} <= ${report.tolerance}`);
    }
  } finally {
    model.dispose();
  }
}

const opsetOption = (value: string): number => {
  if (value !== '17')
    throw new InvalidArgumentError('only opset 17 is written for now (LayerNormalization, Erf-based GELU; see docs/onnx.md)');
  return 17;
};

/**
 * The `export` command group (`export onnx`).
 *
 * @example
 * program.addCommand(exportCommand(ctx)); // mmft export onnx models/clip --out out/clip-onnx --check
 */
export function exportCommand(ctx: CliContext): Command {
  const configure = (c: Command) =>
    c.exitOverride().configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) });
  const onnx = configure(
    new Command('onnx')
      .description(`Write a checkpoint (${ONNX_EXPORT_MODEL_TYPES.join(', ')}) as ONNX for onnxruntime-node, adapters merged first`)
      .argument('<model-dir>', 'checkpoint folder (config.json + model.safetensors, Hugging Face layout)')
      .requiredOption(
        '--out <dir>',
        'where to write the .onnx files and their config/tokenizer files (a new or empty folder, or one mmft wrote)',
      )
      .option('--adapter <dir>', 'adapter folder (PEFT layout) to merge into the weights before export')
      .option('--check', 'run the export in onnxruntime-node and print max |Δ| per output against the tfjs model (fails above 1e-4)')
      .option('--opset <n>', 'ai.onnx opset (17)', opsetOption)
      .option(
        '--keep-4bit',
        'write 4-bit (QLoRA) Linears as com.microsoft MatMulBnb4 in *_bnb4.onnx graphs instead of dequantising them to float32',
      )
      .option('--force', 'replace a non-empty --out folder that mmft did not write (never <model-dir> or --adapter)')
      .option('--plugin <specifier...>', 'load extra plugin packages (architectures, PEFT methods)'),
  ).action((modelDir: string, o: ExportOnnxOptions) => runExportOnnx(ctx, modelDir, o));
  return configure(new Command('export').description('Export a trained model for serving (onnx)')).addCommand(onnx);
}
