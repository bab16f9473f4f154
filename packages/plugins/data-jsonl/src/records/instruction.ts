// The instruction task in three layouts: LLaVA's and sharegpt's {"image"?, "conversations":
// [{"from": "human"|"gpt"|"system", "value"}]} (haotian-liu/LLaVA llava/train/train.py: roles
// human→USER, gpt→ASSISTANT, preprocess_multimodal moves "<image>" to the start of the first human
// turn), the OpenAI-style {"messages": [{"role": "user"|"assistant"|"system", "content"}]} that
// LLaMA-Factory (data/README.md, sharegpt "openai format") and TRL read, and the simple
// {"image"?, "instruction", "response"}. "image" is optional: text-only conversations are half of
// LLaVA's instruction mixture. Turns start with a user turn (after optional system turns) and alternate.
import { z } from 'zod';
import type { ConversationTurn } from '@mmft/core';
import { idFields, imageField, text } from './fields';
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

const message = z.object({
  role: z.enum(['user', 'assistant', 'system'], {
    error: (iss) => `must be "user", "assistant" or "system", got ${iss.input === undefined ? 'nothing' : JSON.stringify(iss.input)}`,
  }),
  content: text('the message text'),
});

export const instructionRecord = z
  .object({
    ...idFields,
    image: imageField.optional(),
    conversations: z.array(turn, { error: (iss) => `must be an array of {"from", "value"} turns, got ${typeName(iss.input)}` }).optional(),
    messages: z
      .array(message, { error: (iss) => `must be an array of {"role", "content"} messages, got ${typeName(iss.input)}` })
      .optional(),
    /** sharegpt's top-level system prompt (LLaMA-Factory's "system" column). */
    system: text('the system prompt').optional(),
    instruction: text('the user instruction').optional(),
    response: text('the expected answer').optional(),
  })
  .superRefine((record, ctx) => {
    const bad = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message, params: { code: 'bad-conversation' } });
    const layouts = (['conversations', 'messages', 'instruction'] as const).filter((key) => record[key] !== undefined);
    if (layouts.length > 1) {
      bad([layouts[1]!], `conflicts with "${layouts[0]}": give one of "conversations", "messages" or "instruction" + "response"`);
      return;
    }
    if (layouts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['conversations'],
        message: 'missing (give "conversations", "messages" or "instruction" + "response")',
      });
      return;
    }
    if (record.instruction !== undefined && record.response === undefined) {
      ctx.addIssue({ code: 'custom', path: ['response'], message: 'missing (the expected answer to "instruction")' });
      return;
    }
    const key = layouts[0] === 'messages' ? 'messages' : 'conversations';
    const turns = normalisedTurns(record);
    if (layouts[0] === 'instruction') return checkImageTokens(turns, record.image !== undefined, ['instruction'], bad);
    const field = key === 'messages' ? 'role' : 'from';
    const name = (role: ConversationTurn['role']) => (key === 'messages' ? role : role === 'user' ? 'human' : 'gpt');
    // record.system, when given, is turn 0 of `turns` but not of the record's array.
    const offset = record.system === undefined ? 0 : 1;
    let expected: 'user' | 'assistant' = 'user';
    let started = false;
    turns.forEach((t, i) => {
      if (i < offset) return;
      const at = [key, i - offset, field];
      if (t.role === 'system') {
        if (started) bad(at, `is "system" after the conversation started; system turns go first`);
        return;
      }
      started = true;
      if (t.role !== expected) {
        bad(at, `is "${name(t.role)}" but "${name(expected)}" was expected: turns alternate ${name('user')}, ${name('assistant')}, ...`);
      }
      expected = t.role === 'user' ? 'assistant' : 'user';
    });
    if (!turns.some((t) => t.role === 'assistant')) bad([key], `has no "${name('assistant')}" turn: nothing to learn from`);
    checkImageTokens(turns, record.image !== undefined, [key], bad);
  });

type InstructionRecord = z.infer<typeof instructionRecord>;

/** One "<image>" at most with an image; none without one (the placeholder would stand for nothing). */
function checkImageTokens(
  turns: readonly ConversationTurn[],
  hasImage: boolean,
  path: (string | number)[],
  bad: (path: (string | number)[], message: string) => void,
): void {
  const tokens = turns.reduce((n, t) => n + t.content.split(IMAGE_TOKEN).length - 1, 0);
  if (hasImage && tokens > 1) bad(path, `holds ${tokens} "${IMAGE_TOKEN}" placeholders; one image per record takes exactly one`);
  if (!hasImage && tokens > 0) {
    const fix = 'add the image, or remove the placeholder from a text-only conversation';
    bad(path, `holds "${IMAGE_TOKEN}" but the record has no "image"; ${fix}`);
  }
}

/** The record's turns in core's roles, system prompt first. */
function normalisedTurns(record: InstructionRecord): ConversationTurn[] {
  const system: ConversationTurn[] = record.system === undefined ? [] : [{ role: 'system', content: record.system }];
  if (record.messages) return [...system, ...record.messages.map((m) => ({ role: m.role, content: m.content }))];
  const source = record.conversations ?? [
    { from: 'human' as const, value: record.instruction ?? '' },
    { from: 'gpt' as const, value: record.response ?? '' },
  ];
  return [...system, ...source.map((t) => ({ role: ROLES[t.from], content: t.value }))];
}

export const instructionFormat: TaskFormat<InstructionRecord> = {
  task: 'instruction',
  schema: instructionRecord,
  detect: (record) => 'conversations' in record || 'messages' in record || 'instruction' in record,
  toExample(record, base) {
    const turns = normalisedTurns(record);
    const texts = turns.map((t) => t.content);
    // As LLaVA's preprocess_multimodal: the image placeholder leads the first user turn.
    const first = turns.findIndex((t) => t.role === 'user');
    if (base.image && first !== -1 && !turns.some((t) => t.content.includes(IMAGE_TOKEN))) {
      turns[first] = { role: 'user', content: `${IMAGE_TOKEN}\n${turns[first]!.content}` };
    }
    return { example: { ...base, task: 'instruction', turns }, texts };
  },
};
