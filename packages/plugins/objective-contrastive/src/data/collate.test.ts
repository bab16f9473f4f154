import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { isMmftError, type Example, type VisionLanguageModel } from '@mmft/core';
import { createCollator } from './collate';

const collator = createCollator({ modelType: 'test' } as unknown as VisionLanguageModel, { seed: 0, maxTextLength: 8 });
const example = (image: string, line: number): Example => ({
  task: 'caption',
  id: `train.jsonl:${line}`,
  image: { kind: 'file', path: image },
  source: { file: '/data/train.jsonl', line },
  captions: ['a square'],
});

describe('collator images', () => {
  test('a missing or corrupt image names the data file and line it came from', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-collate-'));
    const missing = path.join(dir, 'missing.png');
    const corrupt = path.join(dir, 'corrupt.png');
    fs.writeFileSync(corrupt, 'not a png');
    for (const [image, line] of [
      [missing, 4],
      [corrupt, 7],
    ] as const) {
      const error = await collator.images([example(image, line)], 0, [0]).catch((e: unknown) => e);
      expect(isMmftError(error) && error.code).toBe('E_DATA');
      expect((error as Error).message).toMatch(new RegExp(`^/data/train\\.jsonl:${line}: .*${path.basename(image)}`));
      expect((error as { hint?: string }).hint).toContain('mmft data validate /data/train.jsonl');
    }
  });
});

describe('collator: examples without an image', () => {
  test('a text-only conversation or a text example is refused naming its id and file:line', async () => {
    const conversation: Example = {
      task: 'instruction',
      id: 'chat-3',
      source: { file: '/data/chat.jsonl', line: 3 },
      turns: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    };
    const error = await collator.images([example('/data/red.png', 1), conversation], 0, [0, 1]).catch((e: unknown) => e);
    expect(isMmftError(error) && error.code).toBe('E_DATA');
    expect((error as Error).message).toBe(
      'example "chat-3" (/data/chat.jsonl:3, task instruction) has no image; contrastive training needs images',
    );
    const text: Example = { task: 'text', id: 'lm-1', text: 'a red square' };
    await expect(collator.images([text], 0, [0])).rejects.toThrow('example "lm-1" (task text) has no image');
  });
});
