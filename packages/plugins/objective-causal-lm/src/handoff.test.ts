import { describe, expect, test } from '@jest/globals';
import { parseConfig, type Example, type ImageRef } from '@mmft/core';
import { causalLmProvider } from './plugin';

const img = (name: string): ImageRef => ({ kind: 'file', path: `/data/${name}.png` });
// The CLI hands the raw recipe section over; the hook parses it.
const chats = (section: Record<string, unknown>, example: Example) => causalLmProvider.conversations!(section as never, example);

describe('causal-lm conversations for a handoff', () => {
  const llava = {
    template: 'llava_v1',
    default_system: '',
    prompts: { caption: 'Describe the image briefly.', vqa: '{question}\nAnswer briefly.' },
  };

  test('a caption example gives one chat per caption, the caption prompt with the image mark in front', () => {
    const example: Example = { task: 'caption', id: 'c1', image: img('a'), captions: ['a red square', 'one square'] };
    expect(chats(llava, example)).toEqual([
      {
        messages: [
          { role: 'user', content: '<image>\nDescribe the image briefly.' },
          { role: 'assistant', content: 'a red square' },
        ],
        images: [img('a')],
      },
      {
        messages: [
          { role: 'user', content: '<image>\nDescribe the image briefly.' },
          { role: 'assistant', content: 'one square' },
        ],
        images: [img('a')],
      },
    ]);
  });

  test("a VQA turn is the recipe's prompts.vqa, a leading mark stays in front", () => {
    const example: Example = { task: 'vqa', id: 'q', image: img('b'), question: '<image>\nWhat colour?', answer: 'red' };
    expect(chats(llava, example)[0]!.messages).toEqual([
      { role: 'user', content: '<image>\nWhat colour?\nAnswer briefly.' },
      { role: 'assistant', content: 'red' },
    ]);
  });

  test("a named template's default system prompt becomes the system turn; default_system replaces it; chat mode has none", () => {
    const example: Example = { task: 'vqa', id: 'q', image: img('b'), question: 'How many?', answer: '2' };
    const [withDefault] = chats({ template: 'vicuna_v1' }, example);
    expect(withDefault!.messages[0]).toEqual({
      role: 'system',
      content:
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
    });
    // Without prompts.vqa a chat turn is the bare question (chatVqaTurn).
    expect(withDefault!.messages.slice(1)).toEqual([
      { role: 'user', content: '<image>\nHow many?' },
      { role: 'assistant', content: '2' },
    ]);
    expect(chats({ template: 'chatml', default_system: 'Be short.' }, example)[0]!.messages[0]).toEqual({
      role: 'system',
      content: 'Be short.',
    });
    expect(chats({ template: 'chat' }, example)[0]!.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  test("an instruction's own system turn wins and its marks are kept where they are; several images keep their order", () => {
    const example: Example = {
      task: 'instruction',
      id: 'i',
      image: img('x'),
      images: [img('x'), img('y')],
      turns: [
        { role: 'system', content: 'Own.' },
        { role: 'user', content: 'Compare <image> and <image>.' },
        { role: 'assistant', content: 'Same.' },
      ],
    };
    expect(chats({ template: 'llava_v1' }, example)).toEqual([
      {
        messages: [
          { role: 'system', content: 'Own.' },
          { role: 'user', content: 'Compare <image> and <image>.' },
          { role: 'assistant', content: 'Same.' },
        ],
        images: [img('x'), img('y')],
      },
    ]);
  });

  test('an image-less instruction gets no mark; mismatched marks, retrieval and text data are errors naming the example', () => {
    const plain: Example = {
      task: 'instruction',
      id: 't',
      turns: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    };
    expect(chats({ template: 'chat' }, plain)).toEqual([{ messages: plain.turns, images: [] }]);
    const twoMarks: Example = {
      task: 'instruction',
      id: 'm',
      image: img('x'),
      turns: [
        { role: 'user', content: '<image> <image>' },
        { role: 'assistant', content: 'ok' },
      ],
    };
    expect(() => chats({}, twoMarks)).toThrow(/example "m" has 2 <image> marks and 1 images/);
    expect(() => chats({}, { task: 'retrieval', id: 'r', image: img('x'), texts: ['a'] })).toThrow(/example "r" is a retrieval/);
    expect(() => chats({}, { task: 'text', id: 'p', text: 'abc' })).toThrow(/example "p" is a text example/);
  });

  test('the hook parses the section as the objective does (defaults filled)', () => {
    const config = parseConfig(causalLmProvider, { template: 'llava_plain' });
    const example: Example = { task: 'caption', id: 'c', image: img('a'), captions: ['x'] };
    expect(causalLmProvider.conversations!(config, example)[0]!.messages[0]!.role).toBe('user');
  });
});
