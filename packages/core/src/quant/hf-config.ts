// The recipe's `quantization:` section (transformers' BitsAndBytesConfig, 4-bit only) and the
// `quantization_config` object of config.json: written as BitsAndBytesConfig.to_dict() writes it and read
// back as transformers reads it (src/transformers/utils/quantization_config.py in huggingface/transformers).

import { z } from 'zod';
import { MmftError } from '../errors';
import { BLOCK_SIZES_4BIT } from './bnb4';

/**
 * `quantization:` in a recipe: load the base in bitsandbytes 4-bit (QLoRA). The keys mirror
 * BitsAndBytesConfig's (load_in_4bit, bnb_4bit_quant_type, bnb_4bit_use_double_quant, llm_int8_skip_modules)
 * with QLoRA's defaults (nf4, double quantisation) instead of transformers' (fp4, none).
 *
 * @example
 * BitsAndBytes4bitConfig.parse({ load_in_4bit: true }); // { quant_type: 'nf4', double_quant: true, block_size: 64, ... }
 */
export const BitsAndBytes4bitConfig = z
  .strictObject({
    load_in_4bit: z
      .literal(true)
      .describe('quantise the frozen base Linear weights to bitsandbytes 4-bit on load (BitsAndBytesConfig.load_in_4bit)'),
    quant_type: z.enum(['nf4', 'fp4']).default('nf4').describe('4-bit data type: nf4 (QLoRA) or fp4 (bnb_4bit_quant_type)'),
    double_quant: z
      .boolean()
      .default(true)
      .describe('quantise the per-block absmax again to 8 bits, 4.127 instead of 4.5 bits per weight (bnb_4bit_use_double_quant)'),
    block_size: z
      .number()
      .int()
      .refine((b) => BLOCK_SIZES_4BIT.includes(b), { message: `block_size must be one of ${BLOCK_SIZES_4BIT.join(', ')}` })
      .default(64)
      .describe(`elements per absmax block, one of ${BLOCK_SIZES_4BIT.join(', ')} (bitsandbytes' blocksize; transformers always uses 64)`),
    compute_dtype: z
      .enum(['float32', 'bfloat16', 'float16'])
      .default('float32')
      .describe('bnb_4bit_compute_dtype written to config.json; mmft computes in float32 whatever the label'),
    skip_modules: z
      .array(z.string().min(1))
      .optional()
      .describe('module names kept unquantised (llm_int8_skip_modules); default: the output projection lm_head, as transformers'),
  })
  .describe('bitsandbytes 4-bit quantisation of the base model (QLoRA)');

/** The parsed `quantization:` section. */
export type BitsAndBytes4bitConfig = z.output<typeof BitsAndBytes4bitConfig>;

/**
 * The `quantization_config` object transformers writes to config.json for this setting
 * (BitsAndBytesConfig.to_dict(), keys sorted as its JSON writer sorts them). Block size is not part of
 * it: transformers always quantises with 64, and the block size of each weight is in its quant state.
 *
 * @example
 * quantizationConfigJson(BitsAndBytes4bitConfig.parse({ load_in_4bit: true })).bnb_4bit_quant_type; // 'nf4'
 */
export function quantizationConfigJson(cfg: BitsAndBytes4bitConfig): Record<string, unknown> {
  return {
    _load_in_4bit: true,
    _load_in_8bit: false,
    bnb_4bit_compute_dtype: cfg.compute_dtype,
    bnb_4bit_quant_storage: 'uint8',
    bnb_4bit_quant_type: cfg.quant_type,
    bnb_4bit_use_double_quant: cfg.double_quant,
    llm_int8_enable_fp32_cpu_offload: false,
    llm_int8_has_fp16_weight: false,
    llm_int8_skip_modules: cfg.skip_modules ? [...cfg.skip_modules] : null,
    llm_int8_threshold: 6.0,
    load_in_4bit: true,
    load_in_8bit: false,
    quant_method: 'bitsandbytes',
  };
}

const STORAGE = ['float16', 'float32', 'int8', 'uint8', 'float64', 'bfloat16'];

/**
 * Reads config.json's `quantization_config` (a bitsandbytes 4-bit one) with transformers' defaults for
 * missing keys (fp4, no double quantisation, float32 compute). 8-bit and other methods (gptq, awq, ...)
 * are E_UNSUPPORTED naming the field; malformed values are E_CONFIG naming `file` and the field.
 *
 * @example
 * parseQuantizationConfig(config.quantization_config, 'model/config.json').quant_type; // 'nf4'
 */
export function parseQuantizationConfig(json: unknown, file: string): BitsAndBytes4bitConfig {
  const where = `${file}: quantization_config`;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MmftError('E_CONFIG', `${where} is ${JSON.stringify(json)}, expected an object`);
  }
  const q = json as Record<string, unknown>;
  const bad = (field: string, expected: string): never => {
    throw new MmftError('E_CONFIG', `${where}.${field} is ${JSON.stringify(q[field])}; expected ${expected}`);
  };
  const load4 = q.load_in_4bit ?? q._load_in_4bit ?? false;
  const load8 = q.load_in_8bit ?? q._load_in_8bit ?? false;
  // transformers infers bitsandbytes from load_in_4bit/8bit when quant_method is absent (older configs).
  const method = q.quant_method ?? (load4 || load8 ? 'bitsandbytes' : undefined);
  if (method !== 'bitsandbytes') {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${where}.quant_method is ${JSON.stringify(q.quant_method)}; mmft reads only bitsandbytes 4-bit checkpoints`,
      {
        hint: 'dequantise the checkpoint to float16/float32 first, or load an unquantised base with `quantization: { load_in_4bit: true }`',
      },
    );
  }
  if (load8 === true) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${where}.load_in_8bit is true; LLM.int8() checkpoints are not supported, only 4-bit (load_in_4bit)`,
      {
        hint: 'load the unquantised base and quantise it to 4-bit with `quantization: { load_in_4bit: true }`',
      },
    );
  }
  if (load4 !== true) bad('load_in_4bit', 'true (a bitsandbytes 4-bit checkpoint)');
  const quantType = q.bnb_4bit_quant_type ?? 'fp4';
  if (quantType !== 'nf4' && quantType !== 'fp4') bad('bnb_4bit_quant_type', '"nf4" or "fp4"');
  const doubleQuant = q.bnb_4bit_use_double_quant ?? false;
  if (typeof doubleQuant !== 'boolean') bad('bnb_4bit_use_double_quant', 'true or false');
  const compute = q.bnb_4bit_compute_dtype ?? 'float32';
  if (compute !== 'float32' && compute !== 'bfloat16' && compute !== 'float16')
    bad('bnb_4bit_compute_dtype', 'float32, bfloat16 or float16');
  if (q.bnb_4bit_quant_storage != null && !STORAGE.includes(q.bnb_4bit_quant_storage as string)) {
    bad('bnb_4bit_quant_storage', `one of ${STORAGE.join(', ')}`);
  }
  const skip = q.llm_int8_skip_modules ?? undefined;
  if (skip !== undefined && !(Array.isArray(skip) && skip.every((s) => typeof s === 'string' && s)))
    bad('llm_int8_skip_modules', 'a list of module names or null');
  return {
    load_in_4bit: true,
    quant_type: quantType as 'nf4' | 'fp4',
    double_quant: doubleQuant as boolean,
    block_size: 64,
    compute_dtype: compute as 'float32' | 'bfloat16' | 'float16',
    ...(skip === undefined ? {} : { skip_modules: [...(skip as string[])] }),
  };
}
