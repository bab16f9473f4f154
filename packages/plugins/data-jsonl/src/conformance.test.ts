// The three dataset providers run core's dataset conformance kit on small generated files: every
// task of the JSONL formats, the COCO captions layout (caption and retrieval) and VQA v2.
import * as path from 'node:path';
import { describeDataset } from '@mmft/core/testing';
import { cocoCaptionsDataset, jsonlDataset, vqaV2Dataset } from './index';
import { dataDir, jsonl, writeData } from './testing/fixtures';

const dir = dataDir();
const context = { baseDir: dir };
const IMAGES = ['images/red.png', 'images/green.png', 'images/blue.png', 'images/yellow.jpg'];
const image = (i: number) => IMAGES[i % IMAGES.length]!;
const seven = <T>(record: (i: number) => T): T[] => Array.from({ length: 7 }, (_, i) => record(i));

writeData(
  dir,
  'caption.jsonl',
  jsonl(
    ...seven((i) =>
      i % 2 ? { id: `c${i}`, image: image(i), caption: [`caption ${i}`, `another ${i}`] } : { image: image(i), caption: `caption ${i}` },
    ),
  ),
);
writeData(
  dir,
  'vqa.jsonl',
  jsonl(
    ...seven((i) => ({
      image: image(i),
      question: `question ${i}?`,
      answer: `${i}`,
      ...(i % 3 ? {} : { answers: Array(10).fill(`${i}`) }),
    })),
  ),
);
writeData(
  dir,
  'retrieval.jsonl',
  jsonl(...seven((i) => ({ image: image(i), text: `text ${i}`, ...(i % 2 ? { neg_text: [`not ${i}`] } : {}) }))),
);
writeData(
  dir,
  'instruction.jsonl',
  jsonl(
    ...seven((i) =>
      i % 3 === 1
        ? { image: image(i), instruction: `instruction ${i}`, response: `response ${i}` }
        : i % 3 === 2
          ? // text-only, in the OpenAI messages layout
            {
              messages: [
                { role: 'user', content: `question ${i}` },
                { role: 'assistant', content: `answer ${i}` },
              ],
            }
          : {
              image: image(i),
              conversations: [
                { from: 'human', value: `<image>\nquestion ${i}` },
                { from: 'gpt', value: `answer ${i}` },
              ],
            },
    ),
  ),
);
writeData(
  dir,
  'interleaved.jsonl',
  jsonl(
    ...seven((i) =>
      i % 2
        ? { id: `d${i}`, segments: [{ image: image(i) }, { text: `text ${i}` }, { image: image(i + 1) }, { text: `more ${i}` }] }
        : // the OBELICS layout
          { images: [null, image(i)], texts: [`text ${i}`, null] },
    ),
  ),
);
writeData(dir, 'text.jsonl', jsonl(...seven((i) => (i % 2 ? { id: `t${i}`, text: `text ${i}`, lang: 'en' } : { text: `文本 ${i}` }))));
const broken = writeData(
  dir,
  'broken.jsonl',
  jsonl({ image: image(0), caption: 'fine' }, { image: image(1), caption: 'fine too' }, '{"image": "images/red.png", "caption": '),
);

writeData(
  dir,
  'captions.json',
  JSON.stringify({
    images: seven((i) => ({ id: 100 + i, file_name: path.basename(image(i)) })),
    annotations: seven((i) => [{ image_id: 100 + i, caption: `caption ${i}` }]).flat(),
  }),
);
writeData(
  dir,
  'questions.json',
  JSON.stringify({
    data_subtype: 'val2014',
    questions: seven((i) => ({ image_id: i % 3, question: `question ${i}?`, question_id: 1000 + i })),
  }),
);
writeData(
  dir,
  'annotations.json',
  JSON.stringify({
    annotations: seven((i) => ({
      question_id: 1000 + i,
      multiple_choice_answer: `${i}`,
      answers: [{ answer: `${i}` }, { answer: 'other' }],
    })),
  }),
);

describeDataset(jsonlDataset, {
  cases: (['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved'] as const).map((task) => ({
    config: { path: `${task}.jsonl` },
    context,
    task,
  })),
  badRecord: { config: { path: 'broken.jsonl', task: 'caption' }, context, file: broken, line: 3 },
});

describeDataset(cocoCaptionsDataset, {
  cases: (['caption', 'retrieval'] as const).map((task) => ({
    config: { annotations: 'captions.json', images: 'images', task },
    context,
    task,
  })),
});

describeDataset(vqaV2Dataset, {
  cases: [{ config: { questions: 'questions.json', annotations: 'annotations.json', images: 'images' }, context, task: 'vqa' }],
});
