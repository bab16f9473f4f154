// The text task: {"text": str}, the plain-text lines transformers' run_clm reads
// (examples/pytorch/language-modeling/run_clm.py, column "text") and LLaMA-Factory's pretraining
// data. No image, no prompt: the whole text is the training target (docs/data.md, "Text records").
import { z } from 'zod';
import { idFields, text } from './fields';
import type { TaskFormat } from './task-format';

export const textRecord = z.object({
  ...idFields,
  text: text('the text'),
  // An image next to "text" is an image-text pair (retrieval), not plain text: refuse it rather than drop it.
  image: z
    .unknown()
    .refine((value) => value === undefined, {
      message: 'is not allowed in a text record (plain text has no image); image-text pairs are retrieval records (--task retrieval)',
    })
    .optional(),
});

export const textFormat: TaskFormat<z.infer<typeof textRecord>> = {
  task: 'text',
  schema: textRecord,
  detect: (record) => 'text' in record && !('image' in record) && !('captions' in record) && !('neg_text' in record),
  toExample(record, base) {
    const { id, source, lang } = base;
    return { example: { id, source, ...(lang === undefined ? {} : { lang }), task: 'text', text: record.text }, texts: [record.text] };
  },
};
