// The VQA task: {"image", "question", "answer", "answers"?: [10 human answers]}: the VQA v2
// question + multiple_choice_answer + answers triple (GT-Vision-Lab/VQA, PythonHelperTools/vqaTools/vqa.py)
// flattened to one line, with answers as plain strings.
import { z } from 'zod';
import { commonFields, text, textList } from './fields';
import { withImage, type TaskFormat } from './task-format';

export const vqaRecord = z.object({
  ...commonFields,
  question: text('the question'),
  answer: text('the most common human answer'),
  answers: textList('the human answers; VQA v2 has 10').optional(),
  answer_type: z.string().optional(),
  question_type: z.string().optional(),
});

export const vqaFormat: TaskFormat<z.infer<typeof vqaRecord>> = {
  task: 'vqa',
  schema: vqaRecord,
  detect: (record) => 'question' in record,
  toExample(record, base) {
    return {
      example: {
        ...withImage(base),
        task: 'vqa',
        question: record.question,
        answer: record.answer,
        ...(record.answers ? { answers: record.answers } : {}),
        ...(record.answer_type ? { answerType: record.answer_type } : {}),
        ...(record.question_type ? { questionType: record.question_type } : {}),
      },
      texts: [record.question, record.answer],
      vqa: { question: record.question, answer: record.answer },
    };
  },
};
