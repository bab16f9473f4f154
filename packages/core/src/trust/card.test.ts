import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import {
  cardInputFromProvenance,
  cardMetadata,
  folderLabel,
  INTENDED_USES_HEADING,
  INTENDED_USES_TODO,
  intendedUsesOf,
  parseModelCard,
  renderModelCard,
  type ModelCardInput,
} from './card';
import { buildProvenance, type Provenance } from './provenance';

// The metadata keys huggingface_hub reads (src/huggingface_hub/repocard_data.py, ModelCardData's
// named arguments plus `model-index`, which it turns into eval_results, and base_model / pipeline_tag,
// which the Hub reads from the card kwargs).
const HF_MODEL_CARD_KEYS = [
  'language',
  'license',
  'library_name',
  'tags',
  'datasets',
  'metrics',
  'model-index',
  'base_model',
  'pipeline_tag',
];

interface FlatEvalResult {
  task_type: string;
  task_name?: string;
  dataset_type: string;
  dataset_name: string;
  dataset_split?: string;
  metric_type: string;
  metric_value: unknown;
  metric_name?: string;
}

/** model_index_to_eval_results of repocard_data.py, as a check: the required keys must be there (KeyError otherwise). */
function modelIndexToEvalResults(modelIndex: unknown): { name: string; results: FlatEvalResult[] } {
  const out: FlatEvalResult[] = [];
  let name = '';
  const need = (o: Record<string, unknown>, k: string) => {
    if (!(k in o)) throw new Error(`KeyError: ${k}`);
    return o[k];
  };
  for (const elem of modelIndex as Array<Record<string, unknown>>) {
    name = need(elem, 'name') as string;
    for (const result of need(elem, 'results') as Array<Record<string, Record<string, unknown>>>) {
      const task = need(result, 'task') as Record<string, unknown>;
      const dataset = need(result, 'dataset') as Record<string, unknown>;
      for (const metric of need(result, 'metrics') as unknown as Array<Record<string, unknown>>) {
        out.push({
          task_type: need(task, 'type') as string,
          task_name: task.name as string | undefined,
          dataset_type: need(dataset, 'type') as string,
          dataset_name: need(dataset, 'name') as string,
          dataset_split: dataset.split as string | undefined,
          metric_type: need(metric, 'type') as string,
          metric_value: need(metric, 'value'),
          metric_name: metric.name as string | undefined,
        });
      }
    }
  }
  return { name, results: out };
}

const input: ModelCardInput = {
  modelName: 'clip-shapes-lora',
  baseModel: 'clip-shapes-base',
  license: 'cc-by-4.0',
  datasets: ['train'],
  tags: ['mmft', 'clip', 'lora', 'mmft'],
  pipelineTag: 'zero-shot-image-classification',
  evalResults: [
    {
      task: { type: 'zero-shot-image-classification', name: 'Zero-Shot Image Classification' },
      dataset: { name: 'eval', type: 'eval', split: 'eval' },
      metrics: [
        { type: 'retrieval.i2t_r1', value: 0.625, name: 'retrieval.i2t_r1' },
        { type: 'loss', value: 1.25 },
      ],
    },
  ],
  data: [
    { role: 'data.train.path', path: '/d/train.jsonl', sha256: 'a'.repeat(64), bytes: 10, records: 3, license: 'cc-by-4.0' },
    { role: 'data.eval', generator: 'shapes', settings: { seed: 1, n: 40, lang: 'zh' } },
  ],
  training: { steps: 5, totalSteps: 5, samples: 40, seconds: 1.5 },
  metrics: { before: { loss: 2 }, after: { loss: 1.25, 'retrieval.i2t_r1': 0.625 } },
  recipe: { name: 'clip-shapes-lora', model: { type: 'clip' }, train: { lr: 0.001 } },
  environment: { node: 'v22.0.0', engine: 'cpu', kernels: [] },
};

describe('model card', () => {
  it('round-trips through a YAML parser: metadata equals what was rendered, body follows', () => {
    const text = renderModelCard(input);
    expect(text.startsWith('---\n')).toBe(true);
    const { data, body } = parseModelCard(text);
    expect(data).toEqual(cardMetadata(input));
    // An independent split: the block between the first two --- lines parsed on its own.
    const block = text.split('\n---\n')[0]!.slice(4);
    expect(parse(block)).toEqual(data);
    expect(data.tags).toEqual(['mmft', 'clip', 'lora']);
    expect(data.library_name).toBe('mmft');
    expect(body.startsWith('\n# clip-shapes-lora\n')).toBe(true);
  });

  it('uses only metadata keys huggingface_hub reads, and a model-index its reader accepts', () => {
    const { data } = parseModelCard(renderModelCard(input));
    for (const key of Object.keys(data)) expect(HF_MODEL_CARD_KEYS).toContain(key);
    const flat = modelIndexToEvalResults(data['model-index']);
    expect(flat.name).toBe('clip-shapes-lora');
    expect(flat.results).toEqual([
      {
        task_type: 'zero-shot-image-classification',
        task_name: 'Zero-Shot Image Classification',
        dataset_type: 'eval',
        dataset_name: 'eval',
        dataset_split: 'eval',
        metric_type: 'retrieval.i2t_r1',
        metric_value: 0.625,
        metric_name: 'retrieval.i2t_r1',
      },
      {
        task_type: 'zero-shot-image-classification',
        task_name: 'Zero-Shot Image Classification',
        dataset_type: 'eval',
        dataset_name: 'eval',
        dataset_split: 'eval',
        metric_type: 'loss',
        metric_value: 1.25,
        metric_name: undefined,
      },
    ]);
  });

  it('body: data hashes and counts, steps, before/after table with the change, recipe as YAML, environment', () => {
    const { body } = parseModelCard(renderModelCard(input));
    expect(body).toContain(`| data.train.path | \`train.jsonl\` | \`${'a'.repeat(64)}\` | 3 | – | cc-by-4.0 |`);
    expect(body).toContain('| data.eval | shapes | 1 | 40 | `{"lang":"zh"}` |');
    expect(body).toContain('- **Steps:** 5 of 5');
    expect(body).toContain('| loss | 2 | 1.2500 | -0.75000 |');
    expect(body).toContain('| retrieval.i2t_r1 | – | 0.62500 | – |');
    const recipeYaml = /### Recipe \(resolved\)\n\n```yaml\n([\s\S]*?)\n```/.exec(body)![1]!;
    expect(parse(recipeYaml)).toEqual(input.recipe);
    expect(body).toContain('- **kernels:** none');
    expect(body).toContain(`${INTENDED_USES_HEADING}\n\n${INTENDED_USES_TODO}`);
  });

  it('regenerating keeps what the user wrote under Intended uses & limitations', () => {
    const first = renderModelCard(input);
    expect(intendedUsesOf(parseModelCard(first).body)).toBeUndefined();
    const userText = 'For counting shapes in toy scenes only.\n\nNot for photos of people.';
    const edited = first.replace(INTENDED_USES_TODO, userText);
    const kept = intendedUsesOf(parseModelCard(edited).body);
    expect(kept).toBe(userText);
    const again = renderModelCard({ ...input, intendedUses: kept });
    expect(again).toContain(`${INTENDED_USES_HEADING}\n\n${userText}\n\n## Training data`);
    expect(again).not.toContain('TODO (model author)');
  });

  it('a card without metadata parses to empty data; broken YAML is an E_INPUT', () => {
    expect(parseModelCard('# Hello\n')).toEqual({ data: {}, body: '# Hello\n' });
    expect(() => parseModelCard('---\na: [1\n---\n')).toThrow(/YAML metadata does not parse/);
  });

  it('from provenance: tags with qlora, pipeline tag, licence of the agreeing data, model-index from the last eval', () => {
    const p: Provenance = buildProvenance({
      created: '2026-01-01T00:00:00.000Z',
      recipe: {
        path: '/r/llama-qlora.yaml',
        sha256: 'b'.repeat(64),
        git: { none: 'x' },
        resolved: { name: 'llama-qlora', model: { type: 'llama', quantization: { load_in_4bit: true } }, peft: { method: 'lora' } },
      },
      inputs: [
        { role: 'data.train.path', path: '/d/a.jsonl', sha256: 'c'.repeat(64), bytes: 1, records: 1, license: 'mit' },
        { role: 'data.eval.path', path: '/d/b.jsonl', sha256: 'd'.repeat(64), bytes: 1, records: 1, license: 'mit' },
      ],
      base: { path: '/m/llama-base', files: [], provenance: null },
      data_manifests: [],
      steps: [
        { kind: 'train', steps: 3, total_steps: 3, samples: 6, seconds: 0.5, metrics: { before: { cider: 0.1 }, after: { cider: 0.4 } } },
      ],
      environment: { engine: 'cpu' },
    });
    const c = cardInputFromProvenance(p, { folder: 'adapter' });
    expect(c.tags).toEqual(['mmft', 'llama', 'lora', 'qlora']);
    expect(c.pipelineTag).toBe('text-generation');
    expect(c.license).toBe('mit');
    expect(c.baseModel).toBe('llama-base');
    expect(c.datasets).toEqual(['a']);
    expect(c.lineage).toEqual(['adapter', 'llama-base']);
    expect(cardMetadata(c)['model-index']).toEqual([
      {
        name: 'llama-qlora',
        results: [
          {
            task: { type: 'text-generation', name: 'Text Generation' },
            dataset: { name: 'b', type: 'b', split: 'eval' },
            metrics: [{ type: 'cider', value: 0.4, name: 'cider' }],
          },
        ],
      },
    ]);
  });

  it("labels a checkpoint's model folder by run and checkpoint, other folders by name", () => {
    expect(folderLabel('/runs/clip-ft/checkpoint-last/model')).toBe('clip-ft/checkpoint-last/model');
    expect(folderLabel('/runs/clip-ft/checkpoint-best/adapter')).toBe('clip-ft/checkpoint-best/adapter');
    expect(folderLabel('/models/clip-shapes-base')).toBe('clip-shapes-base');
    expect(folderLabel('/x/model')).toBe('model');
  });
});
