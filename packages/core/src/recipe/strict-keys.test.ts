import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { DatasetProvider } from '../contracts/dataset';
import { PluginRegistry } from '../registry/plugin-registry';
import { countingMetric, pluginOf, recordingTrainer } from '../testing/fake-plugins';
import { readRecipe } from './read-recipe';
import { validateRecipe } from './validate-recipe';

// A dataset whose schema is a plain (non-strict) z.object, as the shapes and JSONL datasets were:
// zod alone would drop a misspelt key without a word.
const lenientDataset = {
  kind: 'dataset',
  id: 'lenient',
  description: 'test dataset with a non-strict schema',
  configSchema: z.object({
    domain: z.enum(['A', 'B']).default('A').describe('domain'),
    options: z
      .object({ size: z.number().default(1).describe('size') })
      .default({ size: 1 })
      .describe('nested'),
    extra: z
      .looseObject({ known: z.number().optional().describe('known') })
      .optional()
      .describe('free-form on purpose'),
  }),
  open: async () => {
    throw new Error('not used');
  },
} as unknown as DatasetProvider;

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  r.use(pluginOf('@test/plugins', [countingMetric, recordingTrainer, lenientDataset]), '@test/plugins');
  return r;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

function recipeFile(lines: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-strict-'));
  fs.writeFileSync(path.join(dir, 'r.yaml'), lines.join('\n'));
  return path.join(dir, 'r.yaml');
}

const TRAIN = ['train:', '  type: recording', '  steps: 1'];

describe('every recipe section is strict', () => {
  test('a misspelt key in a section whose schema is not strict is an error, not silently dropped', () => {
    const file = recipeFile([...TRAIN, 'data:', '  train:', '    type: lenient', '    domian: B', '']);
    expect(messageOf(() => validateRecipe(readRecipe(file), registry()))).toContain(
      'data.train.domian: unknown key; did you mean "domain"? (r.yaml:7)',
    );
  });

  test('nested mappings are strict too; free-form (loose) mappings keep their keys', () => {
    const file = recipeFile([
      ...TRAIN,
      'data:',
      '  eval:',
      '    type: lenient',
      '    options:',
      '      size: 2',
      '      sise: 3',
      '    extra: { known: 1, anything: 2 }',
      '',
    ]);
    const message = messageOf(() => validateRecipe(readRecipe(file), registry()));
    expect(message).toContain('data.eval.options.sise: unknown key; did you mean "size"? (r.yaml:9)');
    expect(message).not.toContain('anything');
  });

  test("the message names the key's own line, suggests the closest key and does not dump the section", () => {
    const file = recipeFile([
      'name: x',
      'train:',
      '  type: recording',
      '  steps: 1',
      '  lr: 0.1',
      '  stpes: 2',
      'metrics:',
      '  - type: count',
      '    scael: 2',
      '',
    ]);
    const message = messageOf(() => validateRecipe(readRecipe(file), registry()));
    expect(message).toContain('train.stpes: unknown key; did you mean "steps"? (r.yaml:6)');
    expect(message).toContain('metrics[0].scael: unknown key; did you mean "scale"? (r.yaml:9)');
    expect(message).not.toContain('"lr"');
    expect(message.split('\n')).toHaveLength(3);
  });

  test('unknown top-level sections name their own line and the closest section', () => {
    const file = recipeFile(['seed: 1', 'trian:', '  type: recording', '  steps: 1', '']);
    const message = messageOf(() => validateRecipe(readRecipe(file), registry()));
    expect(message).toContain('trian: unknown key; did you mean "train"? (r.yaml:2)');
    expect(message).not.toContain('"type"');
  });

  test('a key with no close match lists the valid keys, at most twelve', () => {
    const file = recipeFile([...TRAIN, '  zzzzzzzz: 1', '']);
    expect(messageOf(() => validateRecipe(readRecipe(file), registry()))).toContain(
      'train.zzzzzzzz: unknown key; valid keys: type, steps, lr (r.yaml:4)',
    );
    const top = recipeFile([...TRAIN, 'zzzzzzzz: 1', '']);
    expect(messageOf(() => validateRecipe(readRecipe(top), registry()))).toContain(
      'zzzzzzzz: unknown key; valid keys: extends, name, description, plugins, seed, output_dir, backend, model, data, peft, loss, objective and 5 more (mmft schema lists them) (r.yaml:4)',
    );
  });

  test('a --set typo is blamed on the --set flag, not on the recipe file', () => {
    const file = recipeFile([...TRAIN, '']);
    const message = messageOf(() => validateRecipe(readRecipe(file, ['train.stesp=3']), registry()));
    expect(message).toContain('train.stesp: unknown key; did you mean "steps"? (--set train.stesp=3)');
  });

  test('a value error inside a block names the key line of that value', () => {
    const file = recipeFile(['metrics:', '  - type: count', '    scale:', '      - 1', ...TRAIN, '']);
    expect(messageOf(() => validateRecipe(readRecipe(file), registry()))).toContain(
      'metrics[0].scale: expected number, got [1] (r.yaml:3)',
    );
  });
});
