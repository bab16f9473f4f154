// Caption and VQA JSONL → instruction conversations in LLaVA JSON, the generic half of `mmft data
// synth` (the shapes half reads scene ground truth in @mmft/data-shapes). Follows LLaVA-1.5's data
// mix (LLaVA:docs/Data.md, llava_v1_5_mix665k): captions behind a brief-description request, VQA
// with the short-answer prompt "Answer the question using a single word or phrase.", an image's
// questions chained into one multi-turn conversation, plus refusals for what no photo shows.
// Detection-style files (labels + boxes, detections.ts) add counts, object lists, left/right and
// false premises.
import * as path from 'node:path';
import { MmftError, type Example } from '@mmft/core';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { readLines } from '../io/read-lines';
import { detectionPairs, isDetectionRecord, readDetections, type DetectedObject } from './detections';

export const ANNOTATION_TEMPLATES = ['describe', 'vqa', 'count', 'position', 'multi-turn', 'refusal'] as const;
export type AnnotationTemplate = (typeof ANNOTATION_TEMPLATES)[number];

type Lang = 'en' | 'zh';
const WORDS: Readonly<Record<Lang, { describe: string[]; shortAnswer: string; refusals: [string, string][] }>> = {
  en: {
    describe: ['Describe the image briefly.', 'Give a short description of this picture.', 'Summarize the visual content of the image.'],
    shortAnswer: 'Answer the question using a single word or phrase.',
    refusals: [
      ['Who took this picture?', 'The image does not show who took it, so I cannot tell.'],
      ['On what date was this picture taken?', 'Nothing in the image shows the date, so I cannot tell.'],
      ['What is just outside the frame on the left?', 'The image only shows what is inside the frame, so I cannot tell.'],
    ],
  },
  zh: {
    describe: ['简要描述这张图片。', '用一句话描述这张图片。', '概括图片的内容。'],
    shortAnswer: '请用一个词或短语回答问题。',
    refusals: [
      ['这张照片是谁拍的？', '图片中看不出拍摄者是谁，我无法判断。'],
      ['这张照片是哪天拍的？', '图片中没有显示日期，我无法判断。'],
      ['画面左边外面有什么？', '图片只显示了画面以内的内容，我无法判断。'],
    ],
  },
};

export interface AnnotationRecord {
  readonly id: string;
  readonly image: string;
  readonly conversations: { readonly from: 'human' | 'gpt'; readonly value: string }[];
  readonly provenance: { readonly source: string; readonly template: AnnotationTemplate; readonly seed: number; readonly lang: Lang };
}

export interface SynthAnnotationsOptions {
  /** The LLaVA JSON file the records are for: image paths are written relative to its folder. */
  readonly out: string;
  readonly seed?: number;
  readonly templates?: readonly AnnotationTemplate[];
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
}

export interface SynthAnnotationsResult {
  readonly records: AnnotationRecord[];
  /** Conversations (and repeated question–answer pairs inside one) dropped as duplicates. */
  readonly duplicates: number;
}

/** A seeded choice that depends only on (seed, key): the same record picks the same wording wherever it sits in the file. */
function pick<T>(items: readonly T[], seed: number, key: string): T {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return items[h % items.length]!;
}
const langOf = (example: Example, text: string): Lang => (example.lang?.startsWith('zh') || /[\u4e00-\u9fff]/.test(text) ? 'zh' : 'en');
const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

interface ImageGroup {
  readonly image: string;
  readonly lang: Lang;
  readonly captions: { text: string; source: string }[];
  readonly qa: { question: string; answer: string; source: string }[];
  readonly detections: { objects: readonly DetectedObject[]; source: string }[];
}

/** Whether the file's first record is detection-style (an `objects` list). */
async function isDetectionFile(file: string): Promise<boolean> {
  for await (const raw of readLines(file)) {
    const text = new TextDecoder()
      .decode(raw.bytes)
      .replace(/^\uFEFF/, '')
      .trim();
    if (text === '') continue;
    try {
      const record = JSON.parse(text) as unknown;
      return typeof record === 'object' && record !== null && isDetectionRecord(record as Record<string, unknown>);
    } catch {
      return false; // the JSONL reader reports the broken line with its file:line
    }
  }
  return false;
}

/**
 * Read caption and VQA JSONL files and turn each image's annotations into conversations, in the
 * order images first appear; deterministic for a seed, duplicates dropped and counted.
 *
 * @example
 * const { records } = await synthFromAnnotations(['captions.jsonl', 'vqa.jsonl'], { out: 'synth.json', seed: 0 });
 */
export async function synthFromAnnotations(files: readonly string[], options: SynthAnnotationsOptions): Promise<SynthAnnotationsResult> {
  const seed = options.seed ?? 0;
  const templates = options.templates ?? ANNOTATION_TEMPLATES;
  const bad = templates.filter((t) => !(ANNOTATION_TEMPLATES as readonly string[]).includes(t));
  if (bad.length > 0)
    throw new MmftError('E_CONFIG', `unknown synthesis template ${bad.map((t) => `"${t}"`).join(', ')} for caption/VQA files`, {
      hint: `templates for caption/VQA files: ${ANNOTATION_TEMPLATES.join(', ')}`,
    });
  const outDir = path.dirname(path.resolve(options.out));
  const relative = (file: string): string => path.relative(outDir, path.resolve(file)).split(path.sep).join('/');
  const groups = new Map<string, ImageGroup>();
  let duplicates = 0;
  const labels: string[] = [];
  for (const file of files) {
    if (await isDetectionFile(file)) {
      for (const record of await readDetections(file, {
        baseDir: path.dirname(file),
        root: options.root,
        allowOutsideRoot: options.allowOutsideRoot,
      })) {
        const image = relative(record.imagePath);
        const text = record.objects.map((o) => o.label).join(' ');
        const group = groups.get(image) ?? {
          image,
          lang: /[\u4e00-\u9fff]/.test(text) ? ('zh' as const) : ('en' as const),
          captions: [],
          qa: [],
          detections: [],
        };
        groups.set(image, group);
        group.detections.push({ objects: record.objects, source: `${relative(record.source.file)}:${record.source.line}` });
        for (const o of record.objects) if (!labels.includes(o.label)) labels.push(o.label);
      }
      continue;
    }
    const data = await openJsonlDataset(file, { root: options.root, allowOutsideRoot: options.allowOutsideRoot });
    if (data.task !== 'caption' && data.task !== 'vqa')
      throw new MmftError('E_DATA', `${file} holds ${data.task} records; synthesis reads caption and VQA JSONL`, {
        hint: 'give caption files ({"image", "caption"}) and VQA files ({"image", "question", "answer"})',
      });
    for await (const example of data.iterate({})) {
      if (example.task !== 'caption' && example.task !== 'vqa') continue;
      if (example.image.kind !== 'file') continue; // JSONL images are always files
      const image = relative(example.image.path);
      const text = example.task === 'caption' ? example.captions.join(' ') : example.question;
      const group = groups.get(image) ?? { image, lang: langOf(example, text), captions: [], qa: [], detections: [] };
      groups.set(image, group);
      // file:line relative to the output, so provenance reads the same on every machine
      const source = example.source ? `${relative(example.source.file)}:${example.source.line}` : example.id;
      if (example.task === 'caption') {
        for (const caption of example.captions) {
          if (group.captions.some((c) => norm(c.text) === norm(caption))) duplicates += 1;
          else group.captions.push({ text: caption, source });
        }
      } else if (group.qa.some((q) => norm(q.question) === norm(example.question) && norm(q.answer) === norm(example.answer)))
        duplicates += 1;
      else group.qa.push({ question: example.question, answer: example.answer, source });
    }
  }
  const records: AnnotationRecord[] = [];
  const seen = new Set<string>();
  const add = (group: ImageGroup, template: AnnotationTemplate, source: string, turns: [string, string][]) => {
    const conversations = turns.flatMap(([q, a], i) => [
      { from: 'human' as const, value: i === 0 ? `<image>\n${q}` : q },
      { from: 'gpt' as const, value: a },
    ]);
    const key = JSON.stringify([group.image, conversations.map((t) => norm(t.value))]);
    if (seen.has(key)) return void (duplicates += 1);
    seen.add(key);
    const id = `${path.basename(group.image).replace(/\.[^.]+$/, '')}-${template}-${records.length}`;
    records.push({ id, image: group.image, conversations, provenance: { source, template, seed, lang: group.lang } });
  };
  for (const group of groups.values()) {
    const words = WORDS[group.lang];
    const key = (template: string, extra = '') => `${group.image}\u0000${template}\u0000${extra}`;
    // labels of this language seen on other images: the false premises of refusals
    const others = labels.filter((l) => /[\u4e00-\u9fff]/.test(l) === (group.lang === 'zh'));
    const boxes = (template: 'describe' | 'count' | 'position' | 'refusal') =>
      group.detections.flatMap((d) => detectionPairs(template, d.objects, others, group.lang).map((pair) => ({ pair, source: d.source })));
    for (const template of templates) {
      if (template === 'describe') {
        for (const c of group.captions) add(group, template, c.source, [[pick(words.describe, seed, key(template, c.text)), c.text]]);
        for (const { pair, source } of boxes(template)) add(group, template, source, [pair]);
      }
      if (template === 'count' || template === 'position')
        for (const { pair, source } of boxes(template)) add(group, template, source, [pair]);
      if (template === 'vqa') for (const q of group.qa) add(group, template, q.source, [[`${q.question}\n${words.shortAnswer}`, q.answer]]);
      const counted = boxes('count');
      const questions = group.qa.length + counted.length;
      if (template === 'multi-turn' && questions > 0 && group.captions.length + questions > 1) {
        const caption = group.captions.length > 0 ? pick(group.captions, seed, key(template)) : undefined;
        const turns: [string, string][] = caption ? [[pick(words.describe, seed, key(template, caption.text)), caption.text]] : [];
        const sources = [...(caption ? [caption.source] : []), ...group.qa.map((q) => q.source), ...counted.map((c) => c.source)];
        const asked = [...group.qa.map((q): [string, string] => [q.question, q.answer]), ...counted.map((c) => c.pair)];
        add(group, template, [...new Set(sources)].join(','), [...turns, ...asked]);
      }
      if (template === 'refusal') {
        const premise = boxes('refusal')[0];
        if (premise) add(group, template, premise.source, [premise.pair]);
        else {
          const first = group.captions[0]?.source ?? group.qa[0]?.source ?? group.detections[0]!.source;
          add(group, template, first, [pick(words.refusals, seed, key(template))]);
        }
      }
    }
  }
  return { records, duplicates };
}

/** LLaVA JSON text of `records`: an array with one record per line. */
export const llavaJson = (records: readonly unknown[]): string =>
  records.length === 0 ? '[]\n' : `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
