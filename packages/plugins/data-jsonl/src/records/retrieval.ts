// The retrieval task in its three shapes: {"image", "text"} pairs, {"image", "captions": [...]}
// (COCO/Flickr30k style, all positives of an image), and triplets adding "neg_text" (hard
// negatives, as in ARO / SugarCrepe). Exactly one of "text" and "captions" must be present.
import { z } from 'zod';
import { commonFields, text, textList, textOrList } from './fields';
import { withImage, type TaskFormat } from './task-format';

export const retrievalRecord = z
  .object({
    ...commonFields,
    text: text('the matching text').optional(),
    captions: textList('the matching texts').optional(),
    neg_text: textOrList('hard-negative text(s)').optional(),
  })
  .superRefine((record, ctx) => {
    if ((record.text === undefined) === (record.captions === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: record.text === undefined ? ['text'] : ['captions'],
        message:
          record.text === undefined ? 'missing (give "text" or "captions")' : 'conflicts with "text": give one of "text" and "captions"',
      });
    }
  });

export const retrievalFormat: TaskFormat<z.infer<typeof retrievalRecord>> = {
  task: 'retrieval',
  schema: retrievalRecord,
  detect: (record) => 'text' in record || 'captions' in record || 'neg_text' in record,
  toExample(record, base) {
    const texts = record.captions ?? [record.text ?? ''];
    const negatives = record.neg_text === undefined ? undefined : typeof record.neg_text === 'string' ? [record.neg_text] : record.neg_text;
    return {
      example: { ...withImage(base), task: 'retrieval', texts, ...(negatives ? { negativeTexts: negatives } : {}) },
      texts: [...texts, ...(negatives ?? [])],
    };
  },
};
