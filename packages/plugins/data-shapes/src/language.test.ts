import { describe, expect, test } from '@jest/globals';
import { SeededRng } from '@mmft/image';
import { chinese } from './chinese';
import { english } from './english';
import { hardNegativeScenes } from './examples';
import type { Scene } from './scene';
import { sampleScene } from './scene';

const scene: Scene = {
  index: 0,
  domain: 'A',
  styleSeed: 1,
  objects: [
    { shape: 'square', color: 'blue', size: 'large', x: 61, y: 50 },
    { shape: 'circle', color: 'red', size: 'small', x: 17, y: 40 },
    { shape: 'circle', color: 'green', size: 'small', x: 83, y: 60 },
  ],
};

describe('wording', () => {
  test('English captions, questions and answers', () => {
    expect(english.orderCaption(scene)).toBe('From left to right: a red circle, a blue square and a green circle.');
    const captions = english.captions(scene, new SeededRng(0));
    expect(captions[0]).toBe('A large blue square, a small red circle and a small green circle.');
    expect(captions[3]).toBe('There are three shapes: two circles and a square.');
    expect(english.question({ type: 'count', shape: 'circle', count: 2 })).toEqual({
      question: 'How many circles are there?',
      answer: '2',
      sentence: 'There are two circles.',
    });
    expect(english.question({ type: 'position', a: scene.objects[1]!, b: scene.objects[0]!, side: 'left' }).sentence).toBe(
      'The red circle is to the left of the blue square.',
    );
    expect(english.question({ type: 'exists', shape: 'hexagon', color: 'orange', answer: false }).question).toBe(
      'Is there an orange hexagon?',
    );
  });

  test('Chinese uses 的, 个 with 两, and 在…左边', () => {
    expect(chinese.orderCaption(scene)).toBe('从左到右依次是：红色的圆形、蓝色的正方形和绿色的圆形。');
    const captions = chinese.captions(scene, new SeededRng(0));
    expect(captions[0]).toBe('图中有一个蓝色的大正方形、一个红色的小圆形和一个绿色的小圆形。');
    expect(captions[3]).toBe('图中有三个图形：两个圆形和一个正方形。');
    expect(chinese.question({ type: 'position', a: scene.objects[1]!, b: scene.objects[0]!, side: 'left' })).toEqual({
      question: '红色的圆形在蓝色的正方形的左边还是右边？',
      answer: '左边',
      sentence: '红色的圆形在蓝色的正方形左边。',
    });
    expect(chinese.question({ type: 'color', target: scene.objects[0]!, by: 'shape' })).toEqual({
      question: '正方形是什么颜色的？',
      answer: '蓝色',
      sentence: '正方形是蓝色的。',
    });
    expect(chinese.question({ type: 'exists', shape: 'star', color: 'red', answer: false }).answer).toBe('没有');
  });

  test('hard negatives swap colours or positions of the same objects', () => {
    const [colors, positions] = hardNegativeScenes(scene, new SeededRng(2));
    const key = (s: Scene) => s.objects.map((o) => `${o.color} ${o.shape} ${o.x}`).sort();
    expect(key(colors!)).not.toEqual(key(scene));
    expect(colors!.objects.map((o) => o.shape)).toEqual(scene.objects.map((o) => o.shape));
    expect(positions!.objects.map((o) => o.color)).toEqual(scene.objects.map((o) => o.color));
    expect(english.orderCaption(positions!)).not.toBe(english.orderCaption(scene));
  });

  test('scenes: distinct colours and columns, inside the frame, seeded', () => {
    for (let i = 0; i < 300; i++) {
      const s = sampleScene(9, i, 'A', 4);
      expect(new Set(s.objects.map((o) => o.color)).size).toBe(s.objects.length);
      const xs = s.objects.map((o) => o.x).sort((a, b) => a - b);
      for (let k = 1; k < xs.length; k++) expect(xs[k]! - xs[k - 1]!).toBeGreaterThanOrEqual(18);
      for (const x of xs) expect(x >= 15 && x <= 85).toBe(true);
    }
    expect(sampleScene(9, 4, 'B', 4).objects).toEqual(sampleScene(9, 4, 'A', 4).objects);
  });
});
