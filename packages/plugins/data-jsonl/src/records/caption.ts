// The caption task: {"image": path, "caption": str | [str]} — several references per image, as
// COCO captions has five (the layout of LAVIS' coco_karpathy caption annotations, one image per line).
import { z } from 'zod';
import { commonFields, textOrList } from './fields';
import { withImage, type TaskFormat } from './task-format';

export const captionRecord = z.object({ ...commonFields, caption: textOrList('the reference caption(s)') });

export const captionFormat: TaskFormat<z.infer<typeof captionRecord>> = {
  task: 'caption',
  schema: captionRecord,
  detect: (record) => 'caption' in record,
  toExample(record, base) {
    const captions = typeof record.caption === 'string' ? [record.caption] : record.caption;
    return { example: { ...withImage(base), task: 'caption', captions }, texts: captions };
  },
};
