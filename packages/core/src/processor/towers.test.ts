import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../errors';
import { expandTowers, towerPatterns, towersOf } from './towers';

const TOWERS = { vision: ['vision_model.**', 'visual_projection.**'], text: ['text_model.**'], head: ['logit_scale'] };

describe('model towers', () => {
  test('expandTowers replaces tower names by their globs and keeps other entries as globs', () => {
    expect(expandTowers(['vision', 'text_model.embeddings.**', 'head'], TOWERS)).toEqual([
      'vision_model.**',
      'visual_projection.**',
      'text_model.embeddings.**',
      'logit_scale',
    ]);
    expect(expandTowers(['toString', 'constructor'], TOWERS)).toEqual(['toString', 'constructor']);
  });

  test('towersOf names the tower of a parameter', () => {
    expect(towersOf(TOWERS, 'vision_model.encoder.layers.0.self_attn.q_proj.lora_A.default.weight')).toEqual(['vision']);
    expect(towersOf(TOWERS, 'logit_scale')).toEqual(['head']);
    expect(towersOf(TOWERS, 'logit_bias')).toEqual([]);
  });

  test('towerPatterns of a tower the model lacks is an E_CONFIG listing its towers', () => {
    expect(towerPatterns(TOWERS, 'vision', 'x')).toEqual(['vision_model.**', 'visual_projection.**']);
    let error: unknown;
    try {
      towerPatterns(TOWERS, 'language', 'train.freeze');
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && [error.code, error.message]).toEqual([
      'E_CONFIG',
      'train.freeze: the model declares no "language" tower; its towers: vision, text, head',
    ]);
  });
});
