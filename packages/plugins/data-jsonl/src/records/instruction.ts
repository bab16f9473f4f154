// The instruction task: LLaVA's {"image", "conversations": [{"from": "human"|"gpt", "value"}]}
// (haotian-liu/LLaVA llava/train/train.py: roles human→USER, gpt→ASSISTANT, preprocess_multimodal
// moves "<image>" to the start of the first human turn) and the simple {"image", "instruction",
// "response"}. Turns must start with a human turn (after optional system turns) and alternate.
import { z } from 'zod';
import type { ConversationTurn } from '@mmft/core';
import { commonFields, text } from './fields';
import { typeName } from './issue';
import type { TaskFormat } from './task-format';

export const IMAGE_TOKEN = '<image>';
const ROLES = { human: 'user', gpt: 'assistant', system: 'system' } as const;

const turn = z.object({
  from: z.enum(['human', 'gpt', 'system'], {
    error: (iss) => `must be "human", "gpt" or "system", got ${iss.input === undefined ? 'nothing' : JSON.stringify(iss.input)}`,
  }),
  value: text('the turn text'),
});

export const instructionRecord = z
  .object({
    ...commonFields,
    conversations: z.array(turn, { error: (iss) => `must be an array of {"from", "value"} turns, got ${typeName(iss.input)}` }).optional(),
    instruction: text('the user instruction').optional(),
    response: text('the expected answer').optional(),
  })
  .superRefine((record, ctx) => {
    const bad = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message, params: { code: 'bad-conversation' } });
    if (record.conversations === undefined) {
      if (record.instruction === undefined)
        ctx.addIssue({ code: 'custom', path: ['conversations'], message: 'missing (give "conversations" or "instruction" + "response")' });
      else if (record.response === undefined)
        ctx.addIssue({ code: 'custom', path: ['response'], message: 'missing (the expected answer to "instruction")' });
      return;
    }
    const turns = record.conversations;
    let expected: 'human' | 'gpt' = 'human';
    let started = false;
    turns.forEach((t, i) => {
      if (t.from === 'system') {
        if (started) bad(['conversations', i, 'from'], 'is "system" after the conversation started; system turns go first');
        return;
      }
      started = true;
      if (t.from !== expected)
        bad(['conversations', i, 'from'], `is "${t.from}" but "${expected}" was expected: turns alternate human, gpt, human, ...`);
      expected = t.from === 'human' ? 'gpt' : 'human';
    });
    if (!turns.some((t) => t.from === 'gpt')) bad(['conversations'], 'has no "gpt" turn: nothing to learn from');
    const tokens = turns.reduce((n, t) => n + t.value.split(IMAGE_TOKEN).length - 1, 0);
    if (tokens > 1) bad(['conversations'], `holds ${tokens} "${IMAGE_TOKEN}" placeholders; one image per record takes exactly one`);
  });

export const instructionFormat: TaskFormat<z.infer<typeof instructionRecord>> = {
  task: 'instruction',
  schema: instructionRecord,
  detect: (record) => 'conversations' in record || 'instruction' in record,
  toExample(record, base) {
    const source = record.conversations ?? [
      { from: 'human' as const, value: record.instruction ?? '' },
      { from: 'gpt' as const, value: record.response ?? '' },
    ];
    const turns: ConversationTurn[] = source.map((t) => ({ role: ROLES[t.from], content: t.value }));
    // As LLaVA's preprocess_multimodal: the image placeholder leads the first user turn.
    const first = turns.findIndex((t) => t.role === 'user');
    if (first !== -1 && !turns.some((t) => t.content.includes(IMAGE_TOKEN))) {
      turns[first] = { role: 'user', content: `${IMAGE_TOKEN}\n${turns[first]!.content}` };
    }
    return { example: { ...base, task: 'instruction', turns }, texts: source.map((t) => t.value) };
  },
};
