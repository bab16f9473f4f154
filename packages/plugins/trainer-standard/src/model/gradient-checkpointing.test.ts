// train.gradient_checkpointing: the schema's forms, core's setting derived from them, the report
// line, and the error for a model without block stacks (the tiny dual encoder of the fixtures).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blockStack, gradientCheckpointingOf, Linear, Module, ModuleList, registerGradients } from '@mmft/core/nn';
import { recordingReporter, registry } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';
import { applyGradientCheckpointing, checkpointingSetting } from './gradient-checkpointing';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

class TwoStacks extends Module<[], null> {
  constructor() {
    super();
    this.registerModule('a', blockStack(new ModuleList([new Linear(2, 2), new Linear(2, 2)])));
    this.registerModule('b', blockStack(new ModuleList([new Linear(2, 2)])));
    this.registerModule('c', new ModuleList([new Linear(2, 2)])); // a list that is no block stack
  }
  forward(): null {
    return null;
  }
}

describe('train.gradient_checkpointing', () => {
  test('schema: false by default, true, or { every_n_blocks: N ≥ 1 }; anything else is refused', () => {
    expect(trainConfigSchema.parse({}).gradient_checkpointing).toBe(false);
    expect(trainConfigSchema.parse({ gradient_checkpointing: true }).gradient_checkpointing).toBe(true);
    expect(trainConfigSchema.parse({ gradient_checkpointing: { every_n_blocks: 3 } }).gradient_checkpointing).toEqual({
      every_n_blocks: 3,
    });
    for (const bad of [{ every_n_blocks: 0 }, { every_n_blocks: 1.5 }, { every: 2 }, 'yes']) {
      expect(trainConfigSchema.safeParse({ gradient_checkpointing: bad }).success).toBe(false);
    }
    expect(checkpointingSetting({ every_n_blocks: 3 })).toEqual({ everyNBlocks: 3 });
    expect(checkpointingSetting(true)).toBe(true);
  });

  test('sets every block stack of the model, reports how many, and leaves other lists alone', () => {
    const root = new TwoStacks();
    const reporter = recordingReporter();
    expect(applyGradientCheckpointing({ modelType: 'two', root }, { every_n_blocks: 2 }, { reporter })).toBe(2);
    expect(reporter.lines).toContain('gradient_checkpointing: 2 block stacks, every 2 blocks');
    expect(gradientCheckpointingOf(root.child('a'))).toBe(2);
    expect(gradientCheckpointingOf(root.child('b'))).toBe(2);
    expect(gradientCheckpointingOf(root.child('c'))).toBe(0);
    expect(applyGradientCheckpointing({ modelType: 'two', root }, false, { reporter })).toBe(0);
    expect(gradientCheckpointingOf(root.child('a'))).toBe(2); // false leaves the model as it is
  });

  test('a model without block stacks is an error naming its model type', async () => {
    const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-ckpt-'));
    const context = {
      recipe: {
        name: 'tiny',
        seed: 7,
        model: { type: 'tiny-dual', config: { seed: 3 } },
        data: { train: { type: 'memory', name: 'train' } },
        loss: { type: 'test-infonce' },
        metrics: [],
      },
      baseDir: outputDir,
      outputDir,
      resolver: registry(),
      reporter: recordingReporter(),
    };
    await expect(
      runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1, gradient_checkpointing: true }), context),
    ).rejects.toThrow(/train\.gradient_checkpointing: model type "tiny-dual" \(TinyDual\) has no transformer block stack to checkpoint/);
    fs.rmSync(outputDir, { recursive: true, force: true });
  });
});
