// The architecture provider "clip": builds ClipModel from a recipe's `model:` section, from a
// checkpoint folder (`pretrained`) or from CLIPConfig fields, and names the model_type it handles
// for the model_type → factory table (STYLE.md §8).
import * as path from 'node:path';
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import type { z } from 'zod';
import { clipSectionSchema, type ClipSectionConfig } from './config';
import { ClipModel } from './clip-model';
import { CLIP_MODEL_TYPES } from './checkpoint/parse-config';

function parseSection(raw: unknown): ClipSectionConfig {
  const parsed = clipSectionSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new MmftError('E_CONFIG', `model (clip): field "${issue.path.join('.')}": ${issue.message}`);
}

/**
 * `model: { type: clip }` — HF CLIPModel (dual encoder).
 *
 * @example
 * const model = await clipArchitecture.fromPretrained('models/clip-shapes');
 */
export const clipArchitecture: ArchitectureProvider<ClipSectionConfig> = {
  kind: 'architecture',
  id: 'clip',
  description: 'CLIP dual encoder (transformers CLIPModel): HF checkpoints, ViT image tower, causal text tower, tokenizer.json',
  configSchema: clipSectionSchema as unknown as z.ZodType<ClipSectionConfig>,
  family: 'dual-encoder',
  modelTypes: CLIP_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseSection(raw);
    if (section.pretrained) return ClipModel.fromPretrained(path.resolve(section.pretrained), { ignoreUnexpected: section.ignoreUnexpected });
    return ClipModel.fromConfig(section, { seed: section.seed });
  },
  fromPretrained: (dir, options) => ClipModel.fromPretrained(dir, options),
};
