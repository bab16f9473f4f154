// model.quantization (QLoRA): the frozen base Linear weights held in bitsandbytes 4-bit once PEFT and
// the strategy have settled what trains, as transformers' from_pretrained(quantization_config=
// BitsAndBytesConfig(load_in_4bit=True, ...)) swaps every Linear but llm_int8_skip_modules for
// bnb.nn.Linear4bit (transformers src/transformers/integrations/bitsandbytes.py) before get_peft_model
// adds float32 adapters. Quantising after PEFT gives the same model: the adapters and modules_to_save
// copies are trainable and stay float32; the frozen originals become 4-bit.
import { MmftError, type RunContext } from '@mmft/core';
import { quantizeLinears4bit, quantizeOptionsOf, type AnyModule, type QuantizeLinears4bitResult } from '@mmft/core/nn';
import { BitsAndBytes4bitConfig } from '@mmft/core/quant';

const size = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/**
 * Quantises `root`'s frozen Linear weights as `section` (the recipe's model.quantization) says and
 * reports it; nothing when the section is absent. Training with nothing trainable but the quantised
 * base's leftovers is refused, as transformers refuses to train a purely quantised model.
 *
 * @example
 * applyQuantization(model.root, { load_in_4bit: true }, context, 'LlamaForCausalLM', { hasAdapter: true });
 * // "quantization nf4, double quant, block 64: 28 frozen Linear weights held in 4 bits, 1.6 MiB freed; float32: lm_head"
 */
export function applyQuantization(
  root: AnyModule,
  section: unknown,
  context: Pick<RunContext, 'reporter'>,
  modelName: string,
  run: { hasAdapter: boolean; evalOnly: boolean },
): QuantizeLinears4bitResult | undefined {
  if (section === undefined) return undefined;
  const config = BitsAndBytes4bitConfig.parse(section);
  if (!run.hasAdapter && !run.evalOnly) {
    throw new MmftError(
      'E_CONFIG',
      `model.quantization: ${modelName} would train with its Linear weights frozen in 4 bits and no adapter`,
      {
        hint: 'add a peft: section (QLoRA trains LoRA on the 4-bit base), or remove model.quantization to fine-tune the full model',
      },
    );
  }
  const result = quantizeLinears4bit(root, quantizeOptionsOf(config));
  if (result.quantized === 0) {
    throw new MmftError('E_CONFIG', `model.quantization: ${modelName} has no frozen Linear weight to hold in 4 bits`, {
      hint: 'check model.quantization.skip_modules; GPT-2’s Conv1D layers, embeddings and norms always stay float32',
    });
  }
  const kept = result.skipped.length ? `; float32: ${result.skipped.join(', ')}` : '';
  context.reporter.info(
    `quantization ${config.quant_type}${config.double_quant ? ', double quant' : ''}, block ${config.block_size}: ` +
      `${result.quantized} frozen Linear weights held in 4 bits, ${size(result.bytesSaved)} freed${kept}`,
  );
  return result;
}
