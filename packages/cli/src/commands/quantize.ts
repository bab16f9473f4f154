// `mmft quantize --model DIR --out DIR`: writes a checkpoint whose Linear weights are held in
// bitsandbytes 4-bit (NF4 with double quantisation by default), in the layout transformers +
// bitsandbytes save after from_pretrained(..., quantization_config=BitsAndBytesConfig(load_in_4bit=True,
// ...)) and save_pretrained(): the packed weights with their quant state and config.json's
// quantization_config (docs/qlora.md). The architecture comes from config.json's model_type; its save
// must write 4-bit weights (causal LMs, LLaVA, BLIP-2 do; CLIP refuses). --out follows core's
// output-folder rule, as mmft merge.
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { architectureContext, checkOutputFolder, parseConfig } from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { quantizeLinears4bit, quantizeOptionsOf } from '@mmft/core/nn';
import { BitsAndBytes4bitConfig } from '@mmft/core/quant';
import type { CliContext } from '../context';
import { describeDerivedModel } from './card';

interface QuantizeOptions {
  model: string;
  out: string;
  quantType: 'nf4' | 'fp4';
  doubleQuant: boolean;
  blockSize: number;
  skip?: string[];
  force?: boolean;
  plugin?: string[];
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Runs the command; exported for programmatic use and tests. */
export async function runQuantize(ctx: CliContext, o: QuantizeOptions): Promise<void> {
  const [model, out] = [o.model, o.out].map((p) => path.resolve(ctx.cwd, p)) as [string, string];
  checkOutputFolder(out, { kind: 'model', flag: '--out', force: o.force, protect: [{ path: model, role: '--model' }] });
  const config = BitsAndBytes4bitConfig.parse({
    load_in_4bit: true,
    quant_type: o.quantType,
    double_quant: o.doubleQuant,
    block_size: o.blockSize,
    ...(o.skip ? { skip_modules: o.skip } : {}),
  });
  const modelType = await readModelType(model);
  const registry = await ctx.createRegistry(o.plugin ?? []);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(model, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const loaded = await architecture.fromPretrained(model, {}, architectureContext(registry));
  try {
    loaded.root.freeze('**');
    const result = quantizeLinears4bit(loaded.root, quantizeOptionsOf(config));
    const kept = result.skipped.length ? `; float32: ${result.skipped.join(', ')}` : '';
    ctx.print(
      `${config.quant_type}${config.double_quant ? ' + double quant' : ''}, block ${config.block_size}: ` +
        `${result.quantized} Linear weights in 4 bits, ${mib(result.bytesSaved)} smaller${kept}`,
    );
    await loaded.save(out, { force: true }); // checked above, before the slow part
    await describeDerivedModel(out, {
      step: { kind: 'quantize', model_type: modelType, ...config, quantized: result.quantized, skipped: result.skipped },
      base: model,
    });
    ctx.print(`wrote 4-bit ${modelType} checkpoint to ${o.out} (with README.md and provenance.json)`);
  } finally {
    loaded.dispose();
  }
}

const blockSize = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('a power of two from 32 to 4096');
  return n;
};

/**
 * The `quantize` command.
 *
 * @example
 * program.addCommand(quantizeCommand(ctx)); // mmft quantize --model models/llama-shapes-base --out models/llama-4bit
 */
export function quantizeCommand(ctx: CliContext): Command {
  return new Command('quantize')
    .description(
      'Write a checkpoint with its Linear weights in bitsandbytes 4-bit (NF4 + double quantisation), as transformers saves load_in_4bit models',
    )
    .requiredOption('--model <dir>', 'checkpoint folder to quantise (config.json + model.safetensors)')
    .requiredOption('--out <dir>', 'where to write the 4-bit checkpoint (a new or empty folder, or a model folder mmft wrote)')
    .addOption(new Option('--quant-type <type>', 'bnb_4bit_quant_type').choices(['nf4', 'fp4']).default('nf4'))
    .option('--no-double-quant', 'keep each block’s absmax in float32 (4.5 instead of 4.127 bits per weight)')
    .option('--block-size <n>', 'elements per absmax block (transformers always uses 64)', blockSize, 64)
    .option('--skip <module...>', 'modules kept in float32 (llm_int8_skip_modules; default: lm_head)')
    .option('--force', 'replace a non-empty --out folder that is not a model folder mmft wrote (never --model)')
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((o: QuantizeOptions) => runQuantize(ctx, o));
}
