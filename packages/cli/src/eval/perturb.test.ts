// The --perturb list, the paraphrase rule table on fixed questions in English and Chinese (both
// directions, answers untouched, unmatched questions counted as unchanged), and image perturbation
// of examples: each distinct image perturbed once, pixels equal to @mmft/image's op on the decoded
// image, image-less examples unchanged.
import { describe, expect, test } from '@jest/globals';
import type { Example } from '@mmft/core';
import { applyPerturbation, decodeImage } from '@mmft/image';
import { paraphrase, paraphraseExample, parsePerturbations, perturbationLabel, perturbExamples } from './perturb';

describe('parsePerturbations', () => {
  test('names with optional strengths, defaults, and errors naming the item', () => {
    expect(parsePerturbations('blur,noise:0.2, crop:0.5,paraphrase')).toEqual([
      { kind: 'blur', sigma: 1.5 },
      { kind: 'noise', std: 0.2 },
      { kind: 'crop', fraction: 0.5 },
      { kind: 'paraphrase' },
    ]);
    expect(parsePerturbations('blur:2').map(perturbationLabel)).toEqual(['blur:2']);
    expect(() => parsePerturbations('fog')).toThrow(/--perturb fog: unknown perturbation "fog"/);
    expect(() => parsePerturbations('crop:1.5')).toThrow(/crop fraction/);
    expect(() => parsePerturbations('blur:x')).toThrow(/not a number/);
    expect(() => parsePerturbations('blur,blur:1.5')).toThrow(/listed twice/);
    expect(() => parsePerturbations('paraphrase:2')).toThrow(/no strength/);
  });
});

describe('paraphrase rules', () => {
  test.each([
    ['What color is the red circle?', 'Which colour is the red circle?'],
    ['Which colour is the leftmost object?', 'What color is the leftmost object?'],
    ['What shape is the blue object?', 'Which shape is the blue object?'],
    ['How many circles are there?', 'What is the number of circles?'],
    ['What is the number of objects?', 'How many objects are there?'],
    ['Is there a small red square?', 'Does the image contain a small red square?'],
    ['Is the circle to the left or to the right of the star?', 'Is the circle on the left or on the right of the star?'],
    ['Describe this image.', 'Describe this picture.'],
    ['红色的物体是什么颜色的？', '红色的物体的颜色是什么？'],
    ['圆形是什么形状？', '圆形的形状是什么？'],
    ['图中一共有几个物体？', '这张图里一共有多少个物体？'],
    ['图中有几个圆形？', '这张图里有多少个圆形？'],
    ['这张图里有多少个星形？', '图中有几个星形？'],
    ['图中有红色的小圆形吗？', '这张图里有没有红色的小圆形？'],
    ['红色的圆形在蓝色的方形的左边还是右边？', '红色的圆形位于蓝色的方形的左侧还是右侧？'],
  ])('%s → %s', (question, expected) => {
    expect(paraphrase(question)).toBe(expected);
  });

  test('no rule: undefined; the language tag limits the rules; surrounding whitespace kept', () => {
    expect(paraphrase('Why is the sky blue?')).toBeUndefined();
    expect(paraphrase('天空为什么是蓝色的？')).toBeUndefined();
    expect(paraphrase('How many circles are there?', 'zh')).toBeUndefined();
    expect(paraphrase('  how many stars are there?\n', 'en-GB')).toBe('  What is the number of stars?\n');
  });

  test('examples: the VQA question or the last user turn after <image>; answers and other turns untouched', () => {
    const image = { kind: 'file', path: '/x.png' } as const;
    const vqa: Example = { task: 'vqa', id: 'q', image, lang: 'en', question: 'What shape is the red object?', answer: 'circle' };
    expect(paraphraseExample(vqa)).toEqual({ ...vqa, question: 'Which shape is the red object?' });
    const chat: Example = {
      task: 'instruction',
      id: 'c',
      image,
      lang: 'zh',
      turns: [
        { role: 'user', content: '<image>\n描述这张图片。' },
        { role: 'assistant', content: '一个圆形。' },
        { role: 'user', content: '图中有几个圆形？' },
        { role: 'assistant', content: '一个。' },
      ],
    };
    const out = paraphraseExample(chat) as Extract<Example, { task: 'instruction' }>;
    expect(out.turns.map((t) => t.content)).toEqual(['<image>\n描述这张图片。', '一个圆形。', '这张图里有多少个圆形？', '一个。']);
    const first: Example = { ...chat, turns: [{ role: 'user', content: '<image>\nDescribe this image.' }], lang: 'en' };
    expect((paraphraseExample(first) as typeof out).turns[0]!.content).toBe('<image>\nDescribe this picture.');
    expect(paraphraseExample({ task: 'caption', id: 'k', image, captions: ['a'] })).toBeUndefined();
  });
});

describe('perturbExamples', () => {
  test('paraphrase counts the examples no rule rewords', async () => {
    const image = { kind: 'file', path: '/x.png' } as const;
    const examples: Example[] = [
      { task: 'vqa', id: 'a', image, question: 'How many stars are there?', answer: '2' },
      { task: 'vqa', id: 'b', image, question: 'Why?', answer: 'no' },
    ];
    const { examples: out, unchanged } = await perturbExamples(examples, { kind: 'paraphrase' }, 0);
    expect(unchanged).toEqual(['b']);
    expect((out[0] as { question: string }).question).toBe('What is the number of stars?');
    expect(out[1]).toBe(examples[1]);
  });

  test('images: one perturbed PNG per distinct image, pixels = the op on the decoded image; image-less examples unchanged', async () => {
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="6" height="6"><rect width="6" height="6" fill="rgb(200,30,30)"/><rect x="2" y="2" width="2" height="2" fill="rgb(10,40,240)"/></svg>',
    );
    const image = { kind: 'bytes', bytes: svg, format: 'svg', key: 'k1' } as const;
    const examples: Example[] = [
      { task: 'caption', id: 'a', image, captions: ['x'] },
      { task: 'vqa', id: 'b', image, question: 'q', answer: 'a' },
      { task: 'text', id: 't', text: 'no image' },
    ];
    const p = { kind: 'noise', std: 0.1 } as const;
    const { examples: out, unchanged } = await perturbExamples(examples, p, 7);
    expect(unchanged).toEqual(['t']);
    const [a, b] = out as Extract<Example, { task: 'caption' }>[];
    expect(a!.image).toBe(b!.image); // decoded and encoded once for both examples
    const decoded = await decodeImage(svg);
    const got = await decodeImage((a!.image as { bytes: Uint8Array }).bytes);
    // The noise is seeded by --seed and the image's name: the same call gives the same bytes.
    const again = await perturbExamples(examples.slice(0, 1), p, 7);
    expect((again.examples[0]!.image as { bytes: Uint8Array }).bytes).toEqual((a!.image as { bytes: Uint8Array }).bytes);
    expect(got.data).not.toEqual(decoded.data);
    const blurred = await perturbExamples(examples.slice(0, 1), { kind: 'blur', sigma: 1 }, 7);
    const blurredPixels = await decodeImage((blurred.examples[0]!.image as { bytes: Uint8Array }).bytes);
    expect(Array.from(blurredPixels.data)).toEqual(Array.from(applyPerturbation(decoded, { kind: 'blur', sigma: 1 }, 0)));
  });
});
