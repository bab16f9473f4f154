// The instruction task in the layouts people hold, all read to core's turns + one image:
// - LLaVA {"image"?, "conversations": [{"from": "human"|"gpt"|"system", "value"}]} (haotian-liu/LLaVA
//   llava/train/train.py: human→USER, gpt→ASSISTANT; preprocess_multimodal puts "<image>" first;
//   LLaVA-NeXT's "image" may be a list);
// - LLaMA-Factory sharegpt {"conversations"|"messages", "images": [...]} with the tags of its
//   dataset_info.json entry (hiyouga/LLaMA-Factory src/llamafactory/data/parser.py DatasetAttr
//   defaults from/value/human/gpt/system; data/README.md: as many images as "<image>" tokens);
// - ms-swift {"messages": [{"role", "content"}], "images": [...]} (modelscope/ms-swift
//   docs/source_en/Customization/Custom-dataset.md);
// - OpenAI chat, whose content may be parts [{"type": "text", "text"}, {"type": "image_url",
//   "image_url": {"url"} | "url"}]; an image part becomes "<image>" where it stood, as ms-swift does;
// - the simple {"image"?, "instruction", "response"}.
// "image" is optional: text-only conversations are half of LLaVA's mixture. Turns start with the user
// (after system turns) and alternate. Several images (an "images" list, several image_url parts) go to
// InstructionExample.images in "<image>" order, one placeholder each.
import { z } from 'zod';
import type { ConversationTurn } from '@mmft/core';
import { idFields, text } from './fields';
import { typeName } from './issue';
import type { MessageCode } from '../validate/messages';
import type { TaskFormat } from './task-format';

export const IMAGE_TOKEN = '<image>';

/** Column names and role tags of a LLaMA-Factory sharegpt entry (dataset_info.json "columns" and "tags"). */
export interface ShareGptLayout {
  readonly messages: string;
  readonly images?: string;
  readonly system?: string;
  readonly tags: TurnTags;
}

export interface TurnTags {
  readonly role: string;
  readonly content: string;
  readonly user: string;
  readonly assistant: string;
  readonly system: string;
  /** Tags of tool turns (observation, function_call): read, then refused by name. */
  readonly tools: readonly string[];
}

const LLAVA_TAGS: TurnTags = { role: 'from', content: 'value', user: 'human', assistant: 'gpt', system: 'system', tools: [] };
const CHAT_TAGS: TurnTags = { role: 'role', content: 'content', user: 'user', assistant: 'assistant', system: 'system', tools: [] };
const CHAT_TOOLS = ['tool', 'function', 'observation', 'function_call'];

type Path = (string | number)[];
type Report = (path: Path, message: string, code?: MessageCode) => void;

/** An image reference as written, with the dotted path it sits at. */
export interface ImageValue {
  readonly value: string;
  readonly field: string;
}

/** A record read to turns (system first) and its images, in placeholder order. */
export interface Conversation {
  readonly turns: ConversationTurn[];
  readonly images: ImageValue[];
}

/**
 * Read and check one record; problems go to `report` with the record's own field paths.
 * Returns undefined when the turns cannot be read at all.
 */
export function readConversation(
  record: Record<string, unknown>,
  layout: ShareGptLayout | undefined,
  report: Report,
): Conversation | undefined {
  const imagesKey = layout ? layout.images : 'images';
  const messagesKeys = layout ? [layout.messages] : ['conversations', 'messages'];
  const systemKey = layout ? layout.system : 'system';
  const present = [...messagesKeys, ...(layout ? [] : ['instruction'])].filter((key) => record[key] !== undefined);
  if (present.length > 1) {
    report(
      [present[1]!],
      `conflicts with "${present[0]}": give one of "conversations", "messages" or "instruction" + "response"`,
      'bad-conversation',
    );
    return undefined;
  }
  if (present.length === 0) {
    const what = layout
      ? `the messages column "${layout.messages}" of the dataset_info.json entry`
      : '"conversations", "messages" or "instruction" + "response"';
    report([messagesKeys[0]!], `missing (give ${what})`, 'missing-field');
    return undefined;
  }
  if (layout && !layout.images && record.images !== undefined) {
    report(
      ['images'],
      'is set but the dataset_info.json entry maps no "images" column; add "images": "images" to its "columns"',
      'wrong-type',
    );
  }
  const images: ImageValue[] = [];
  if (record.image !== undefined && (layout === undefined || layout.images !== 'image')) {
    if (imagesKey !== undefined && record[imagesKey] !== undefined) {
      report([imagesKey], `conflicts with "image": give the image in one of them`, 'wrong-type');
    }
    // LLaVA-NeXT's multi-image data writes a list here (LLaVA-VL/LLaVA-NeXT llava/train/train.py,
    // LazySupervisedDataset._get_item: "image" may be a list of files).
    if (Array.isArray(record.image)) images.push(...readImageList(record.image, 'image', report));
    else if (typeof record.image !== 'string')
      report(
        ['image'],
        `must be a string (the image path, relative to the data file) or a list of them, got ${typeName(record.image)}`,
        'wrong-type',
      );
    else if (record.image.trim() === '') report(['image'], 'is empty (the image path, relative to the data file)', 'empty-text');
    else images.push({ value: record.image, field: 'image' });
  } else if (imagesKey !== undefined && record[imagesKey] !== undefined) {
    images.push(...readImageList(record[imagesKey], imagesKey, report));
  }
  let system: string | undefined;
  if (systemKey !== undefined && record[systemKey] !== undefined) {
    if (typeof record[systemKey] !== 'string')
      report([systemKey], `must be a string (the system prompt), got ${typeName(record[systemKey])}`, 'wrong-type');
    else if (record[systemKey].trim() !== '') system = record[systemKey];
  }
  const key = present[0]!;
  let turns: ConversationTurn[];
  if (key === 'instruction') {
    for (const name of ['instruction', 'response'] as const) {
      const value = record[name];
      if (value === undefined)
        report(
          [name],
          `missing (${name === 'response' ? 'the expected answer to "instruction"' : 'the user instruction'})`,
          'missing-field',
        );
      else if (typeof value !== 'string') report([name], `must be a string, got ${typeName(value)}`, 'wrong-type');
      else if (value.trim() === '') report([name], 'is empty', 'empty-text');
    }
    turns = [
      { role: 'user', content: String(record.instruction ?? '') },
      { role: 'assistant', content: String(record.response ?? '') },
    ];
  } else {
    const list = record[key];
    if (!Array.isArray(list)) {
      report([key], `must be an array of turns, got ${typeName(list)}`, 'wrong-type');
      return undefined;
    }
    const first = list.find((t) => t !== null && typeof t === 'object') as Record<string, unknown> | undefined;
    const tags = layout?.tags ?? (first && ('from' in first || 'value' in first) ? LLAVA_TAGS : CHAT_TAGS);
    const roleName = (role: 'user' | 'assistant') => tags[role];
    const field = tags.role;
    const partImages: ImageValue[] = [];
    turns = [];
    list.forEach((raw, i) => {
      const turn = readTurn(raw, [key, i], tags, layout !== undefined, partImages, report);
      if (turn) turns.push(turn);
      else turns.push({ role: 'user', content: '\0unreadable' });
    });
    if (partImages.length > 0 && images.length > 0) {
      report(
        [images[0]!.field],
        `conflicts with the image_url parts of "${key}": give images either as parts or in "${images[0]!.field}"`,
        'wrong-type',
      );
    }
    images.push(...partImages);
    checkOrder(turns, key, field, roleName, report);
  }
  if (turns.some((t) => t.content === '\0unreadable')) return undefined;
  checkPlaceholders(turns, images, key, report);
  return { turns: system === undefined ? turns : [{ role: 'system', content: system }, ...turns], images };
}

function readImageList(value: unknown, key: string, report: Report): ImageValue[] {
  // LLaMA-Factory's _find_medias wraps a lone string into a list; so do we.
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    report([key], `must be an array of image paths, got ${typeName(value)}`, 'wrong-type');
    return [];
  }
  const out: ImageValue[] = [];
  list.forEach((item, i) => {
    const at = typeof value === 'string' ? key : `${key}.${i}`;
    const path = typeof value === 'string' ? [key] : [key, i];
    if (typeof item !== 'string') report(path, `must be a string (an image path or data URL), got ${typeName(item)}`, 'wrong-type');
    else if (item.trim() === '') report(path, 'is empty (an image path or data URL)', 'empty-text');
    else out.push({ value: item, field: at });
  });
  return out;
}

function readTurn(
  raw: unknown,
  at: Path,
  tags: TurnTags,
  strict: boolean,
  images: ImageValue[],
  report: Report,
): ConversationTurn | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    report(at, `must be a {"${tags.role}", "${tags.content}"} object, got ${typeName(raw)}`, 'wrong-type');
    return undefined;
  }
  const turn = raw as Record<string, unknown>;
  const tag = turn[tags.role];
  const known = `"${tags.user}", "${tags.assistant}" or "${tags.system}"`;
  let role: ConversationTurn['role'] | undefined;
  if (tag === tags.user) role = 'user';
  else if (tag === tags.assistant) role = 'assistant';
  else if (tag === tags.system) role = 'system';
  else if (tag === undefined) report([...at, tags.role], `missing (the speaker: ${known})`, 'missing-field');
  else if (typeof tag === 'string' && (strict ? tags.tools : CHAT_TOOLS).includes(tag)) {
    report([...at, tags.role], `is "${tag}": tool and function-call turns are not supported; keep ${known} turns only`, 'bad-conversation');
  } else report([...at, tags.role], `must be ${known}, got ${tag === undefined ? 'nothing' : JSON.stringify(tag)}`, 'wrong-type');
  const content = readContent(turn[tags.content], [...at, tags.content], tags === CHAT_TAGS && !strict, images, report);
  return role === undefined || content === undefined ? undefined : { role, content };
}

/** A turn's text; OpenAI content parts are joined in order, each image part becoming "<image>". */
function readContent(value: unknown, at: Path, parts: boolean, images: ImageValue[], report: Report): string | undefined {
  if (typeof value === 'string') {
    if (value.trim() === '') report(at, 'is empty (the turn text)', 'empty-text');
    return value.trim() === '' ? undefined : value;
  }
  if (value === undefined) {
    report(at, 'missing (the turn text)', 'missing-field');
    return undefined;
  }
  if (!parts || !Array.isArray(value)) {
    const what = parts ? 'a string or an array of {"type": "text"|"image_url"} parts' : 'a string (the turn text)';
    report(at, `must be ${what}, got ${typeName(value)}`, 'wrong-type');
    return undefined;
  }
  if (value.length === 0) {
    report(at, 'is an empty array of parts (the turn text)', 'empty-text');
    return undefined;
  }
  let text = '';
  let ok = true;
  value.forEach((part, i) => {
    const where = [...at, i];
    const p = (part ?? {}) as Record<string, unknown>;
    if (p.type === 'text') {
      if (typeof p.text !== 'string')
        report([...where, 'text'], `must be a string, got ${typeName(p.text)}`, p.text === undefined ? 'missing-field' : 'wrong-type');
      else if (p.text.trim() === '') report([...where, 'text'], 'is empty (a text part)', 'empty-text');
      else return void (text += p.text);
    } else if (p.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as { url?: unknown } | undefined)?.url;
      const field = [...where, 'image_url', ...(typeof p.image_url === 'string' ? [] : ['url'])];
      if (typeof url !== 'string' || url.trim() === '') {
        report(
          field,
          `must be the image's data URL or file path, got ${typeName(url)}`,
          url === undefined ? 'missing-field' : 'wrong-type',
        );
      } else {
        images.push({ value: url, field: field.join('.') });
        return void (text += IMAGE_TOKEN);
      }
    } else {
      report(
        [...where, 'type'],
        `must be "text" or "image_url", got ${p.type === undefined ? 'nothing' : JSON.stringify(p.type)}`,
        'wrong-type',
      );
    }
    ok = false;
  });
  return ok ? text : undefined;
}

function checkOrder(
  turns: readonly ConversationTurn[],
  key: string,
  field: string,
  name: (role: 'user' | 'assistant') => string,
  report: Report,
): void {
  let expected: 'user' | 'assistant' = 'user';
  let started = false;
  turns.forEach((t, i) => {
    if (t.content === '\0unreadable') {
      // Already reported; take it as the expected speaker so one bad turn is not reported twice.
      started = true;
      expected = expected === 'user' ? 'assistant' : 'user';
      return;
    }
    const at = [key, i, field];
    if (t.role === 'system') {
      if (started) report(at, `is "system" after the conversation started; system turns go first`, 'bad-conversation');
      return;
    }
    started = true;
    if (t.role !== expected) {
      report(
        at,
        `is "${name(t.role)}" but "${name(expected)}" was expected: turns alternate ${name('user')}, ${name('assistant')}, ...`,
        'bad-conversation',
      );
    }
    expected = t.role === 'user' ? 'assistant' : 'user';
  });
  const readable = turns.every((t) => t.content !== '\0unreadable');
  if (readable && !turns.some((t) => t.role === 'assistant'))
    report([key], `has no "${name('assistant')}" turn: nothing to learn from`, 'bad-conversation');
}

/**
 * As LLaMA-Factory's _validate_messages (hiyouga/LLaMA-Factory src/llamafactory/data/mm_plugin.py:
 * the number of images must equal the number of "<image>" placeholders): every "<image>" stands for
 * one image, so several images need as many placeholders. One image and no placeholder is accepted (LLaVA's preprocess_multimodal and ms-swift put it before the first user
 * text); a placeholder in an assistant turn is refused (it would be expanded into image features there).
 */
function checkPlaceholders(turns: readonly ConversationTurn[], images: readonly ImageValue[], key: string, report: Report): void {
  const count = (s: string) => s.split(IMAGE_TOKEN).length - 1;
  const total = turns.reduce((n, t) => n + count(t.content), 0);
  const answer = turns.findIndex((t) => t.role === 'assistant' && count(t.content) > 0);
  if (answer !== -1) {
    report(
      [key, answer],
      `is an assistant turn holding "${IMAGE_TOKEN}"; placeholders go in user turns (write the literal text differently)`,
      'image-placeholders',
    );
  }
  if (images.length > 1 && total !== images.length) {
    report(
      [key],
      `holds ${total} "${IMAGE_TOKEN}" placeholder(s) for ${images.length} images; with several images each needs its own "${IMAGE_TOKEN}" where it stands, in image order`,
      'image-placeholders',
    );
  } else if (images.length === 0 && total > 0) {
    report(
      [key],
      `holds ${total} "${IMAGE_TOKEN}" placeholder(s) but the record has no image; add the image, or remove the placeholder from a text-only conversation`,
      'image-placeholders',
    );
  } else if (images.length === 1 && total > 1) {
    report([key], `holds ${total} "${IMAGE_TOKEN}" placeholders for 1 image; each placeholder stands for one image`, 'image-placeholders');
  }
}

/** An instruction record after checking: its turns with "<image>" in place, and its image. */
export interface InstructionRecord {
  readonly id?: string | number;
  readonly lang?: string;
  readonly conversation: Conversation;
}

/** The instruction format for records read with `layout` (undefined: the layouts recognised by their keys). */
export function instructionFormatFor(layout?: ShareGptLayout): TaskFormat<InstructionRecord> {
  const schema = z
    .looseObject({ ...idFields, ...(layout ? {} : { system: text('the system prompt').optional() }) })
    .transform((record, ctx) => {
      let failed = false;
      const report: Report = (path, message, code) => {
        failed = true;
        ctx.addIssue({ code: 'custom', path, message, params: { code: code ?? 'bad-conversation' } });
      };
      const conversation = readConversation(record, layout, report);
      if (!conversation || failed) return z.NEVER;
      return { id: record.id, lang: record.lang, conversation } as InstructionRecord;
    });
  return {
    task: 'instruction',
    schema: schema as unknown as z.ZodType<InstructionRecord>,
    detect: (record) => 'conversations' in record || 'messages' in record || 'instruction' in record,
    imagesOf: (record) => record.conversation.images,
    toExample(record, base) {
      const turns = record.conversation.turns.slice();
      const texts = turns.map((t) => t.content);
      // As LLaVA's preprocess_multimodal: the image placeholder leads the first user turn.
      const first = turns.findIndex((t) => t.role === 'user');
      if (base.image && first !== -1 && !turns.some((t) => t.content.includes(IMAGE_TOKEN))) {
        turns[first] = { role: 'user', content: `${IMAGE_TOKEN}\n${turns[first]!.content}` };
      }
      // core's contract: `images` only when there is more than one; `image` is always the first.
      const { images, ...rest } = base;
      return { example: { ...rest, ...(images && images.length > 1 ? { images } : {}), task: 'instruction', turns }, texts };
    },
  };
}

export const instructionFormat = instructionFormatFor();
