// The COCO captions annotation layout users download (captions_{train,val}2014.json):
// {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}, as read by
// cocodataset/cocoapi PythonAPI/pycocotools/coco.py. Grouped to one example per image.
import * as path from 'node:path';
import { z } from 'zod';
import { MmftError, type Dataset, type Example } from '@mmft/core';
import type { CocoCaptionsConfig } from '../config';
import { arrayDataset } from './array-dataset';
import { readJsonFile } from './read-json';

const cocoSchema = z.object({
  images: z.array(z.object({ id: z.number(), file_name: z.string().min(1) })),
  annotations: z.array(z.object({ image_id: z.number(), caption: z.string() })),
});

/**
 * Open a COCO captions annotation file. `source.line` is the 1-based index of the image in
 * `images` (the file is one JSON document).
 *
 * @example
 * const data = await openCocoCaptions({ annotations: 'captions_val2014.json', images: 'val2014', task: 'caption' });
 */
export async function openCocoCaptions(config: CocoCaptionsConfig): Promise<Dataset> {
  const coco = await readJsonFile(config.annotations, cocoSchema, 'COCO captions annotations');
  const captions = new Map<number, string[]>();
  coco.annotations.forEach((a, i) => {
    if (a.caption.trim() === '') {
      throw new MmftError('E_DATA', `${config.annotations}: annotations.${i}.caption is empty (image_id ${a.image_id})`);
    }
    const list = captions.get(a.image_id) ?? [];
    list.push(a.caption.trim());
    captions.set(a.image_id, list);
  });
  const examples: Example[] = [];
  coco.images.forEach((image, i) => {
    const texts = captions.get(image.id);
    // Images without captions exist in the test splits; a caption dataset cannot use them.
    if (!texts) return;
    const base = {
      id: String(image.id),
      image: { kind: 'file' as const, path: path.resolve(config.images, image.file_name) },
      source: { file: config.annotations, line: i + 1 },
    };
    examples.push(config.task === 'caption' ? { ...base, task: 'caption', captions: texts } : { ...base, task: 'retrieval', texts });
  });
  const known = new Set(coco.images.map((image) => image.id));
  const orphan = coco.annotations.find((a) => !known.has(a.image_id));
  if (orphan) {
    throw new MmftError('E_DATA', `${config.annotations}: an annotation names image_id ${orphan.image_id}, which is not in "images"`);
  }
  return arrayDataset(config.task, examples);
}
