// The VQA v2 layout users download: a questions JSON ({"data_subtype", "questions": [{"image_id",
// "question", "question_id"}]}) plus an annotations JSON ({"annotations": [{"question_id",
// "multiple_choice_answer", "answers": [{"answer"}], ...}]}), joined by question_id as
// GT-Vision-Lab/VQA PythonHelperTools/vqaTools/vqa.py does; image names as in vqaDemo.py.
import * as path from 'node:path';
import { z } from 'zod';
import { MmftError, type Dataset, type VqaExample } from '@mmft/core';
import type { VqaV2Config } from '../config';
import { arrayDataset } from './array-dataset';
import { readJsonFile } from './read-json';

const questionsSchema = z.object({
  data_subtype: z.string(),
  questions: z.array(z.object({ image_id: z.number(), question: z.string().min(1), question_id: z.number() })),
});
const annotationsSchema = z.object({
  annotations: z.array(
    z.object({
      question_id: z.number(),
      multiple_choice_answer: z.string(),
      answers: z.array(z.object({ answer: z.string() })),
      answer_type: z.string().optional(),
      question_type: z.string().optional(),
    }),
  ),
});

/** The image file name of `imageId`: "COCO_train2014_000000000009.jpg" by default. */
export function vqaImageName(template: string, subtype: string, imageId: number): string {
  return template.replaceAll('{subtype}', subtype).replaceAll('{id}', String(imageId).padStart(12, '0'));
}

/**
 * Open a VQA v2 questions + annotations pair. `source.line` is the 1-based question index.
 *
 * @example
 * const data = await openVqaV2({ questions: 'q.json', annotations: 'a.json', images: 'val2014', imageTemplate: 'COCO_{subtype}_{id}.jpg' });
 */
export async function openVqaV2(config: VqaV2Config): Promise<Dataset> {
  const questions = await readJsonFile(config.questions, questionsSchema, 'VQA v2 questions');
  const annotations = await readJsonFile(config.annotations, annotationsSchema, 'VQA v2 annotations');
  const byQuestion = new Map(annotations.annotations.map((a) => [a.question_id, a]));
  const examples = questions.questions.map((q, i): VqaExample => {
    const a = byQuestion.get(q.question_id);
    if (!a) {
      throw new MmftError(
        'E_DATA',
        `${config.annotations} has no annotation for question_id ${q.question_id} (${config.questions} questions.${i})`,
        {
          hint: 'use the annotations file of the same split as the questions file',
        },
      );
    }
    return {
      task: 'vqa',
      id: String(q.question_id),
      image: { kind: 'file', path: path.resolve(config.images, vqaImageName(config.imageTemplate, questions.data_subtype, q.image_id)) },
      source: { file: config.questions, line: i + 1 },
      question: q.question,
      answer: a.multiple_choice_answer,
      answers: a.answers.map((x) => x.answer),
      ...(a.answer_type ? { answerType: a.answer_type } : {}),
      ...(a.question_type ? { questionType: a.question_type } : {}),
    };
  });
  return arrayDataset('vqa', examples);
}
