import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { dataDir, jsonl, writeData } from '../testing/fixtures';
import { synthFromAnnotations } from './annotations';
import { detectionPairs, plural, readDetections, type DetectedObject } from './detections';

const dir = dataDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// dog [10, 60) and ball [70, 90) do not overlap across; cat [50, 80) overlaps both
const objects: DetectedObject[] = [
  { label: 'dog', bbox: [10, 5, 50, 40] },
  { label: 'ball', bbox: [70, 30, 20, 20] },
  { label: 'cat', bbox: [50, 0, 30, 30] },
  { label: 'person', bbox: [0, 0, 5, 5] },
  { label: 'person', bbox: [90, 0, 5, 5] },
];

describe('detection-style annotations', () => {
  test('plurals', () => {
    expect(['dog', 'bus', 'box', 'cherry', 'toy', 'person', 'traffic light', 'wine glass', 'knife'].map(plural)).toEqual([
      'dogs',
      'buses',
      'boxes',
      'cherries',
      'toys',
      'people',
      'traffic lights',
      'wine glasses',
      'knives',
    ]);
  });

  test('hand-checked pairs: counts, the object list, left/right only where boxes settle it, false premises', () => {
    expect(detectionPairs('count', objects, [], 'en')).toEqual([
      ['How many dogs are there?', 'There is 1 dog.'],
      ['How many balls are there?', 'There is 1 ball.'],
      ['How many cats are there?', 'There is 1 cat.'],
      ['How many people are there?', 'There are 2 people.'],
    ]);
    expect(detectionPairs('describe', objects, [], 'en')).toEqual([
      ['What objects are in the image?', 'The image contains 1 dog, 1 ball, 1 cat and 2 people.'],
    ]);
    // dog–ball only: cat overlaps both across, the people are not unique
    expect(detectionPairs('position', objects, [], 'en')).toEqual([
      ['Is the dog to the left or to the right of the ball?', 'The dog is to the left of the ball.'],
    ]);
    expect(detectionPairs('refusal', objects, ['dog', 'zebra', 'car'], 'en')).toEqual([
      ['What color is the zebra?', 'There is no zebra in the image, so I cannot tell its color.'],
    ]);
    expect(detectionPairs('refusal', objects, ['dog'], 'en')).toEqual([]);
    const zh: DetectedObject[] = [
      { label: '猫', bbox: [60, 0, 10, 10] },
      { label: '狗', bbox: [0, 0, 10, 10] },
      { label: '狗', bbox: [20, 0, 10, 10] },
      { label: '球', bbox: [30, 0, 10, 10] },
    ];
    expect(detectionPairs('count', zh, [], 'zh')).toEqual([
      ['图中有几个猫？', '图中有1个猫。'],
      ['图中有几个狗？', '图中有2个狗。'],
      ['图中有几个球？', '图中有1个球。'],
    ]);
    expect(detectionPairs('position', zh, [], 'zh')).toEqual([['猫在球的左边还是右边？', '猫在球的右边。']]);
    expect(detectionPairs('describe', zh, [], 'zh')[0]![1]).toBe('图中有1个猫、2个狗和1个球。');
  });

  test('a malformed record fails with file:line and the field', async () => {
    const file = writeData(
      dir,
      'bad.jsonl',
      jsonl({ image: 'images/red.png', objects: [] }, { image: 'images/red.png', objects: [{ label: 'x', bbox: [1, 2, 3] }] }),
    );
    await expect(readDetections(file, { baseDir: dir })).rejects.toThrow(
      /bad\.jsonl:2: objects\[0\]\.bbox must be \[x, y, width, height\]/,
    );
  });

  test('files are recognised by their first record and mixed with caption files per image', async () => {
    const boxes = writeData(
      dir,
      'boxes.jsonl',
      jsonl(
        { image: 'images/red.png', objects: objects.slice(0, 2) },
        { image: 'images/blue.png', objects: [{ label: 'zebra', bbox: [0, 0, 1, 1] }] },
      ),
    );
    const captions = writeData(dir, 'cap.jsonl', jsonl({ image: 'images/red.png', caption: 'A dog and a ball.' }));
    const out = path.join(dir, 'synth.json');
    const { records } = await synthFromAnnotations([captions, boxes], { out, seed: 1 });
    const red = records.filter((r) => r.image === 'images/red.png');
    const at = (template: string) => red.filter((r) => r.provenance.template === template).map((r) => r.conversations.map((t) => t.value));
    expect(at('count')).toEqual([
      ['<image>\nHow many dogs are there?', 'There is 1 dog.'],
      ['<image>\nHow many balls are there?', 'There is 1 ball.'],
    ]);
    expect(at('position')).toEqual([
      ['<image>\nIs the dog to the left or to the right of the ball?', 'The dog is to the left of the ball.'],
    ]);
    expect(at('refusal')).toEqual([['<image>\nWhat color is the zebra?', 'There is no zebra in the image, so I cannot tell its color.']]);
    expect(at('describe').map((c) => c[1])).toEqual(['A dog and a ball.', 'The image contains 1 dog and 1 ball.']);
    // multi-turn: the caption, then both counts
    expect(at('multi-turn')[0]!.slice(1)).toEqual([
      'A dog and a ball.',
      'How many dogs are there?',
      'There is 1 dog.',
      'How many balls are there?',
      'There is 1 ball.',
    ]);
    expect(red.find((r) => r.provenance.template === 'count')!.provenance.source).toBe('boxes.jsonl:1');
  });
});
