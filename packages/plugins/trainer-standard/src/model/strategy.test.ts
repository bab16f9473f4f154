import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '@mmft/core';
import { Linear, Module } from '@mmft/core/nn';
import { trainConfigSchema } from '../config';
import { applyStrategy } from './strategy';

class Dual extends Module<[], never> {
  constructor() {
    super();
    this.registerModule('vision_model', new Linear(3, 2, { seed: 1 }));
    this.registerModule('visual_projection', new Linear(2, 2, { seed: 2, bias: false }));
    this.registerModule('text_model', new Linear(3, 2, { seed: 3 }));
    this.registerModule('text_projection', new Linear(2, 2, { seed: 4, bias: false }));
  }
  forward(): never {
    throw new Error('not used');
  }
}

const TOWERS = { vision: ['vision_model.**', 'visual_projection.**'], text: ['text_model.**', 'text_projection.**'] };
const trainable = (root: Module) =>
  root
    .namedParameters()
    .filter(([, v]) => v.trainable)
    .map(([n]) => n);
const config = (fields: Record<string, unknown>) => trainConfigSchema.parse(fields);

describe('applyStrategy: freezing by the towers the model declares', () => {
  test('lock-image freezes the vision tower (vision_model + visual_projection for CLIP), the text tower trains', () => {
    const root = new Dual();
    expect(applyStrategy(root, config({ strategy: 'lock-image' }), false, TOWERS)).toBe(12);
    expect(trainable(root)).toEqual(['text_model.weight', 'text_model.bias', 'text_projection.weight']);
    root.dispose();
  });

  test('freeze and unfreeze take tower names besides globs', () => {
    const root = new Dual();
    applyStrategy(root, config({ freeze: ['vision', 'text_model.bias'], unfreeze: ['visual_projection.**'] }), false, TOWERS);
    expect(trainable(root)).toEqual(['visual_projection.weight', 'text_model.weight', 'text_projection.weight']);
    const other = new Dual();
    applyStrategy(other, config({ freeze: ['**'], unfreeze: ['text'] }), false, TOWERS);
    expect(trainable(other)).toEqual(['text_model.weight', 'text_model.bias', 'text_projection.weight']);
    root.dispose();
    other.dispose();
  });

  test('lock-image on a model without a vision tower names its towers', () => {
    const root = new Dual();
    let error: unknown;
    try {
      applyStrategy(root, config({ strategy: 'lock-image' }), false, { language: ['text_model.**'] });
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.message).toBe(
      'train.strategy lock-image: the model declares no "vision" tower; its towers: language',
    );
    root.dispose();
  });
});
