// The recipe section of the shapes dataset (docs/conventions.md §7: the plugin owns its schema, every field
// described; strict, so a misspelt key such as `domian:` is an error, not domain A). `lang: both`
// emits every example in English and in Chinese.
import { z } from 'zod';
import { SYNTH_TEMPLATES } from './synth';
import { DOMAINS } from './vocabulary';

/** The image tasks (what `mmft data shapes` writes with images/). */
export const SHAPES_TASKS = ['caption', 'vqa', 'retrieval', 'instruction'] as const;
/** Every task the provider yields: the image tasks and the text corpus (text-corpus.ts). */
export const SHAPES_ALL_TASKS = [...SHAPES_TASKS, 'text'] as const;

export const shapesConfigSchema = z
  .strictObject({
    task: z
      .enum(SHAPES_ALL_TASKS)
      .default('caption')
      .describe('Which task the dataset yields: caption, vqa, retrieval, instruction, or text (the text corpus for LM pretraining)'),
    split: z
      .enum(['train', 'eval'])
      .default('train')
      .describe('Text corpus only (task text, or instruction with images: false): train, or the held-out eval split sharing no text'),
    images: z
      .boolean()
      .default(true)
      .describe('false with task instruction: text-only dialogues from the text corpus (the scene described in the first user turn)'),
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
    templates: z
      .array(z.enum(SYNTH_TEMPLATES))
      .min(1)
      .optional()
      .describe(
        `task instruction only: synthesised conversations of these templates (${SYNTH_TEMPLATES.join(', ')}), one per template, image and language, as \`mmft data synth\` writes them; unset: the default dialogue (a description and two questions)`,
      ),
  })
  .superRefine((config, ctx) => {
    if (!config.images && config.task !== 'instruction' && config.task !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['images'], message: `images: false needs task instruction or text, not ${config.task}` });
    }
    if (config.templates !== undefined && (config.task !== 'instruction' || !config.images)) {
      ctx.addIssue({
        code: 'custom',
        path: ['templates'],
        message: `templates (synthesised conversations) need task instruction with images, not task ${config.task}${config.images ? '' : ' without images'}`,
      });
    }
    if (config.split === 'eval' && !isTextCorpus(config)) {
      ctx.addIssue({
        code: 'custom',
        path: ['split'],
        message: 'split: eval is the held-out text corpus (task text, or instruction with images: false); image data holds out by seed',
      });
    }
  });

export type ShapesConfig = z.output<typeof shapesConfigSchema>;
export type ShapesConfigInput = z.input<typeof shapesConfigSchema>;

/** The languages of a config, in output order. */
export function languagesOf(lang: ShapesConfig['lang']): ('en' | 'zh')[] {
  return lang === 'both' ? ['en', 'zh'] : [lang];
}

/** True when a config yields the text corpus (no images) rather than rendered scenes. */
export function isTextCorpus(config: Pick<ShapesConfig, 'task' | 'images'>): boolean {
  return config.task === 'text' || (config.task === 'instruction' && !config.images);
}
