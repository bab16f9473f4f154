import { describe, expect, test } from '@jest/globals';
import { tinyModelConfigDir } from '../testing/describe-handoff-target';
import { handoffPlan } from './plan';

const modelDir = tinyModelConfigDir;

// The shape of recipes/llava-shapes-instruct.yaml after validation (defaults filled).
const instruct = (checkpoint: string) => ({
  name: 'llava-shapes-instruct',
  seed: 0,
  model: { type: 'llava', checkpoint },
  data: { train: { type: 'mix', strategy: 'concat', sources: [] } },
  objective: { type: 'causal-lm', template: 'llava_v1', default_system: '', max_length: 256, train_on_prompt: false },
  metrics: [{ type: 'vqa' }, { type: 'caption', tokenizer: 'ptb' }],
  peft: {
    method: 'lora',
    r: 16,
    lora_alpha: 32,
    lora_dropout: 0,
    target_modules: 'all-linear',
    exclude_modules: 'vision_tower\\..*',
    modules_to_save: ['multi_modal_projector'],
    use_rslora: false,
    bias: 'none',
  },
  train: {
    type: 'standard',
    lr: 0.002,
    lr_groups: [{ params: 'projector', lr: 0.001 }],
    weight_decay: 0,
    betas: [0.9, 0.999],
    eps: 1e-8,
    warmup_steps: 10,
    schedule: 'cosine',
    max_steps: 900,
    epochs: 3,
    batch_size: 16,
    grad_accum_steps: 1,
    max_grad_norm: 1,
    freeze: ['vision'],
    unfreeze: [],
    metric_for_best: 'vqa.accuracy',
    log_every: 25,
    gradient_checkpointing: false,
  },
});

describe('handoffPlan', () => {
  test('the LLaVA LoRA recipe: model from config.json, vision frozen, projector saved whole, language by LoRA', () => {
    const dir = modelDir();
    const plan = handoffPlan(instruct(dir), '/r/llava.yaml', '/r');
    expect(plan.model).toEqual({ path: dir, localPath: dir, modelType: 'llava', architecture: 'LlavaForConditionalGeneration' });
    expect(plan.freeze).toEqual({ vision: true, projector: false, language: false });
    expect(plan.peft).toEqual({
      method: 'lora',
      r: 16,
      alpha: 32,
      dropout: 0,
      targetModules: 'all-linear',
      excludeModules: 'vision_tower\\..*',
      modulesToSave: ['multi_modal_projector'],
      useRslora: false,
    });
    expect(plan.train).toMatchObject({
      lr: 0.002,
      lrGroups: [{ params: 'projector', lr: 0.001 }],
      maxSteps: 900,
      batchSize: 16,
      gradAccum: 1,
      schedule: 'cosine',
      logEvery: 25,
    });
    expect(plan.train.epochs).toBeUndefined();
    expect(plan).toMatchObject({ template: 'llava_v1', defaultSystem: '', maxLength: 256, seed: 0, name: 'llava-shapes-instruct' });
    expect(plan.gaps.map((g) => g.field)).toEqual(['train.metric_for_best', 'metrics.0', 'metrics.1']);
  });

  test('without exclude_modules all-linear reaches the vision tower; freeze names and globs of whole parts count', () => {
    const dir = modelDir();
    const recipe = instruct(dir);
    const noExclude = {
      ...recipe,
      peft: { ...recipe.peft, exclude_modules: undefined, modules_to_save: [] },
      train: { ...recipe.train, freeze: [] },
    };
    expect(handoffPlan(noExclude, '/r/x.yaml', '/r').freeze).toEqual({ vision: false, projector: false, language: false });
    // Names only reach language layers: PEFT matches a list by module-name suffix.
    const names = { ...noExclude, peft: { ...noExclude.peft, target_modules: ['q_proj', 'v_proj'] } };
    expect(handoffPlan(names, '/r/x.yaml', '/r').freeze).toEqual({ vision: false, projector: true, language: false });
    const full = { ...recipe, peft: undefined, train: { ...recipe.train, freeze: ['vision_tower.**', 'language'], unfreeze: [] } };
    expect(handoffPlan(full, '/r/x.yaml', '/r').freeze).toEqual({ vision: true, projector: false, language: true });
    const partial = { ...recipe, peft: undefined, train: { ...recipe.train, freeze: ['language_model.model.layers.0.**'] } };
    const plan = handoffPlan(partial, '/r/x.yaml', '/r');
    expect(plan.freeze.language).toBe(false);
    expect(plan.gaps[0]).toEqual({ field: 'train.freeze.0', why: expect.stringContaining('language_model.model.layers.0.**') });
  });

  test('QLoRA, epochs, template auto, lr groups by glob, few-shot and mix strategy become plan fields or gaps', () => {
    const dir = modelDir({ 'tokenizer_config.json': JSON.stringify({ chat_template: '{{ x }}' }) });
    const recipe = instruct(dir);
    const plan = handoffPlan(
      {
        ...recipe,
        model: { ...recipe.model, quantization: { load_in_4bit: true, quant_type: 'nf4', double_quant: true, block_size: 128 } },
        data: { train: { type: 'mix', strategy: 'interleave_under', sources: [] } },
        objective: { ...recipe.objective, template: 'auto', few_shot: { shots: 2 } },
        metrics: [],
        train: {
          ...recipe.train,
          max_steps: undefined,
          epochs: 2,
          lr_groups: [{ params: ['projector', 'vision_tower.*.q_proj'], lr: 1e-4 }],
          metric_for_best: undefined,
        },
      },
      '/r/x.yaml',
      '/r',
      { modelPath: 'org/model' },
    );
    expect(plan.model.quantization).toEqual({ bits: 4, quantType: 'nf4', doubleQuant: true });
    expect(plan.model.path).toBe('org/model');
    expect(plan.template).toBe('chat');
    expect(plan.train.epochs).toBe(2);
    expect(plan.train.maxSteps).toBeUndefined();
    expect(plan.train.lrGroups).toEqual([{ params: 'projector', lr: 1e-4 }]);
    expect(plan.gaps.map((g) => g.field).sort()).toEqual([
      'data.train.strategy',
      'model.quantization.block_size',
      'objective.few_shot',
      'train.lr_groups.0',
    ]);
    const withEval = { ...recipe, data: { ...recipe.data, eval: { type: 'shapes' } } };
    expect(handoffPlan(withEval, '/r/x.yaml', '/r').gaps.map((g) => g.field)).toContain('train.eval_before');
    const noBefore = { ...withEval, train: { ...withEval.train, eval_before: false } };
    expect(handoffPlan(noBefore, '/r/x.yaml', '/r').gaps.map((g) => g.field)).not.toContain('train.eval_before');
  });

  test('a text-only model (no vision_config) trains no vision tower or projector whatever the LoRA targets', () => {
    const dir = modelDir({}, { model_type: 'llama', architectures: ['LlamaForCausalLM'] });
    const recipe = instruct(dir);
    const plan = handoffPlan(
      { ...recipe, peft: { ...recipe.peft, exclude_modules: undefined, modules_to_save: [] }, train: { ...recipe.train, freeze: [] } },
      '/r/x.yaml',
      '/r',
    );
    expect(plan.freeze).toEqual({ vision: true, projector: true, language: false });
    expect(plan.model).toMatchObject({ modelType: 'llama', architecture: 'LlamaForCausalLM' });
  });

  test('a missing config.json and a recipe without checkpoint are errors naming the path', () => {
    const recipe = instruct('/nowhere/model');
    expect(() => handoffPlan(recipe, '/r/x.yaml', '/r')).toThrow(/\/nowhere\/model\/config.json cannot be read/);
    expect(() => handoffPlan({ ...recipe, model: { type: 'llava' } }, '/r/x.yaml', '/r')).toThrow(
      /\/r\/x.yaml: model.checkpoint is not set/,
    );
  });
});
