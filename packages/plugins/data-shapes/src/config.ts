// The recipe section of the shapes dataset (docs/conventions.md §7: the plugin owns its schema, every field
// described; strict, so a misspelt key such as `domian:` is an error, not domain A). `lang: both`
// emits every example in English and in Chinese.
import { z } from 'zod';
import { DOMAINS } from './vocabulary';

export const SHAPES_TASKS = ['caption', 'vqa', 'retrieval', 'instruction'] as const;

export const shapesConfigSchema = z.strictObject({
  task: z.enum(SHAPES_TASKS).default('caption').describe('Which task the dataset yields: caption, vqa, retrieval or instruction'),
  domain: z
    .enum(DOMAINS)
    .default('A')
    .describe('Visual domain: "A" flat shapes on a plain background, "B" striped outlined shapes on textured gradients'),
  n: z.number().int().positive().default(1000).describe('Number of images (scenes)'),
  seed: z.number().int().default(0).describe('Generator seed: the same seed gives the same scenes, texts and PNG bytes'),
  lang: z.enum(['en', 'zh', 'both']).default('en').describe('Language of the texts; "both" yields each example in English and Chinese'),
  imageSize: z.number().int().min(16).max(2048).default(64).describe('Side of the rendered square images in pixels'),
  maxObjects: z.number().int().min(1).max(4).default(4).describe('Most objects in a scene (each scene has 1..maxObjects)'),
  questionsPerImage: z.number().int().min(1).max(10).default(3).describe('VQA questions per image and language'),
});

export type ShapesConfig = z.output<typeof shapesConfigSchema>;
export type ShapesConfigInput = z.input<typeof shapesConfigSchema>;

/** The languages of a config, in output order. */
export function languagesOf(lang: ShapesConfig['lang']): ('en' | 'zh')[] {
  return lang === 'both' ? ['en', 'zh'] : [lang];
}
