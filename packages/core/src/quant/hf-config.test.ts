import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '../errors';
import { BitsAndBytes4bitConfig, parseQuantizationConfig, quantizationConfigJson } from './hf-config';

// What transformers writes for BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
// bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16) (to_dict, sorted keys).
const QLORA = {
  _load_in_4bit: true,
  _load_in_8bit: false,
  bnb_4bit_compute_dtype: 'bfloat16',
  bnb_4bit_quant_storage: 'uint8',
  bnb_4bit_quant_type: 'nf4',
  bnb_4bit_use_double_quant: true,
  llm_int8_enable_fp32_cpu_offload: false,
  llm_int8_has_fp16_weight: false,
  llm_int8_skip_modules: null,
  llm_int8_threshold: 6.0,
  load_in_4bit: true,
  load_in_8bit: false,
  quant_method: 'bitsandbytes',
};

const thrown = (fn: () => unknown): Error & { code?: string } => {
  try {
    fn();
  } catch (e) {
    if (isMmftError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
};

describe('BitsAndBytes4bitConfig (the recipe section)', () => {
  it("defaults to QLoRA's settings: nf4, double quantisation, block 64, float32 compute, HF's skip default", () => {
    expect(BitsAndBytes4bitConfig.parse({ load_in_4bit: true })).toEqual({
      load_in_4bit: true,
      quant_type: 'nf4',
      double_quant: true,
      block_size: 64,
      compute_dtype: 'float32',
    });
  });

  it('is strict and checks the block size', () => {
    expect(BitsAndBytes4bitConfig.safeParse({ load_in_4bit: true, quant: 'nf4' }).success).toBe(false);
    expect(BitsAndBytes4bitConfig.safeParse({ load_in_4bit: false }).success).toBe(false);
    const bad = BitsAndBytes4bitConfig.safeParse({ load_in_4bit: true, block_size: 48 });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('block_size must be one of 32, 64, 128, 256, 512, 1024, 2048, 4096');
    expect(
      BitsAndBytes4bitConfig.parse({ load_in_4bit: true, block_size: 4096, skip_modules: ['lm_head', 'vision_tower'] }).skip_modules,
    ).toEqual(['lm_head', 'vision_tower']);
  });
});

describe('quantization_config', () => {
  it('writes what transformers writes, keys sorted', () => {
    const json = quantizationConfigJson(BitsAndBytes4bitConfig.parse({ load_in_4bit: true, compute_dtype: 'bfloat16' }));
    expect(json).toEqual(QLORA);
    expect(Object.keys(json)).toEqual(Object.keys(json).sort());
    const skip = quantizationConfigJson(BitsAndBytes4bitConfig.parse({ load_in_4bit: true, quant_type: 'fp4', skip_modules: ['lm_head'] }));
    expect(skip).toMatchObject({ bnb_4bit_quant_type: 'fp4', llm_int8_skip_modules: ['lm_head'], bnb_4bit_compute_dtype: 'float32' });
  });

  it('reads a QLoRA config back, and an older one with transformers defaults (fp4, no double quant)', () => {
    expect(parseQuantizationConfig(QLORA, 'm/config.json')).toEqual({
      load_in_4bit: true,
      quant_type: 'nf4',
      double_quant: true,
      block_size: 64,
      compute_dtype: 'bfloat16',
    });
    expect(parseQuantizationConfig({ load_in_4bit: true, llm_int8_skip_modules: ['lm_head'] }, 'm/config.json')).toEqual({
      load_in_4bit: true,
      quant_type: 'fp4',
      double_quant: false,
      block_size: 64,
      compute_dtype: 'float32',
      skip_modules: ['lm_head'],
    });
    const cfg = BitsAndBytes4bitConfig.parse({ load_in_4bit: true, skip_modules: ['lm_head', 'mm_projector'] });
    expect(parseQuantizationConfig(quantizationConfigJson(cfg), 'x')).toEqual(cfg);
  });

  it('refuses 8-bit and other methods as E_UNSUPPORTED naming the field', () => {
    const gptq = thrown(() => parseQuantizationConfig({ quant_method: 'gptq', bits: 4 }, 'm/config.json'));
    expect(gptq.code).toBe('E_UNSUPPORTED');
    expect(gptq.message).toContain('m/config.json: quantization_config.quant_method is "gptq"');
    const int8 = thrown(() =>
      parseQuantizationConfig({ ...QLORA, load_in_4bit: false, _load_in_4bit: false, load_in_8bit: true }, 'm/config.json'),
    );
    expect(int8.code).toBe('E_UNSUPPORTED');
    expect(int8.message).toContain('quantization_config.load_in_8bit is true');
  });

  it('refuses malformed values as E_CONFIG naming the file and field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...QLORA, bnb_4bit_quant_type: 'int4' }, 'quantization_config.bnb_4bit_quant_type is "int4"'],
      [{ ...QLORA, bnb_4bit_use_double_quant: 'yes' }, 'quantization_config.bnb_4bit_use_double_quant is "yes"'],
      [{ ...QLORA, bnb_4bit_compute_dtype: 'float64' }, 'quantization_config.bnb_4bit_compute_dtype is "float64"'],
      [{ ...QLORA, bnb_4bit_quant_storage: 'int4' }, 'quantization_config.bnb_4bit_quant_storage is "int4"'],
      [{ ...QLORA, llm_int8_skip_modules: 'lm_head' }, 'quantization_config.llm_int8_skip_modules is "lm_head"'],
      [{ ...QLORA, load_in_4bit: false, _load_in_4bit: false }, 'quantization_config.load_in_4bit is false'],
    ];
    for (const [json, message] of cases) {
      const e = thrown(() => parseQuantizationConfig(json, 'm/config.json'));
      expect(e.code).toBe('E_CONFIG');
      expect(e.message).toContain(`m/config.json: ${message}`);
    }
    expect(thrown(() => parseQuantizationConfig([], 'm/config.json')).message).toContain('expected an object');
  });
});
