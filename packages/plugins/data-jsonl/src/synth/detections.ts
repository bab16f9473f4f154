// Detection-style JSONL ({"image", "objects": [{"label", "bbox": [x, y, w, h]}]}, the shape of a
// COCO instances file flattened per image) → question–answer pairs about counts, what is present,
// left/right and false premises, for annotations.ts to wrap into conversations. Only questions
// whose answer the boxes settle are asked: left/right only between two labels that occur once
// and whose boxes do not overlap across.
import { MmftError } from '@mmft/core';
import { readLines } from '../io/read-lines';
import { resolveImagePath, type ImagePathPolicy } from '../records/image-path';

export interface DetectedObject {
  readonly label: string;
  /** [x, y, width, height] in pixels, COCO's order; absent when the file has labels only. */
  readonly bbox?: readonly [number, number, number, number];
}

export interface DetectionRecord {
  readonly imagePath: string;
  readonly objects: readonly DetectedObject[];
  readonly source: { readonly file: string; readonly line: number };
}

/** Whether a parsed record is detection-style (an `objects` list) rather than a caption/VQA record. */
export const isDetectionRecord = (record: Record<string, unknown>): boolean =>
  Array.isArray(record.objects) && typeof record.image === 'string';

/**
 * Every record of a detection JSONL file; a malformed one fails naming file:line and the field.
 *
 * @example
 * for (const r of await readDetections('boxes.jsonl', { baseDir: '.' })) console.log(r.objects.length);
 */
export async function readDetections(file: string, policy: ImagePathPolicy): Promise<DetectionRecord[]> {
  const out: DetectionRecord[] = [];
  const decoder = new TextDecoder('utf-8');
  for await (const raw of readLines(file)) {
    const text = decoder
      .decode(raw.bytes)
      .replace(/^\uFEFF/, '')
      .trim();
    if (text === '') continue;
    const where = `${file}:${raw.line}`;
    const bad = (what: string): never => {
      throw new MmftError('E_DATA', `${where}: ${what}`, {
        hint: 'detection records look like {"image": "a.jpg", "objects": [{"label": "dog", "bbox": [x, y, w, h]}]}',
      });
    };
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      return bad(`invalid JSON: ${(error as Error).message}`);
    }
    if (!record || typeof record !== 'object' || !isDetectionRecord(record)) bad('expected an object with "image" and an "objects" list');
    const image = resolveImagePath(record.image as string, policy);
    if (!image.ok) bad(image.issue.message);
    const objects = (record.objects as unknown[]).map((o, i): DetectedObject => {
      const item = o as { label?: unknown; bbox?: unknown };
      if (typeof item?.label !== 'string' || item.label.trim() === '') bad(`objects[${i}].label must be a non-empty string`);
      const box = item.bbox;
      if (box === undefined) return { label: (item.label as string).trim() };
      if (
        !Array.isArray(box) ||
        box.length !== 4 ||
        box.some((v) => typeof v !== 'number' || !Number.isFinite(v)) ||
        box[2] < 0 ||
        box[3] < 0
      )
        bad(`objects[${i}].bbox must be [x, y, width, height] with width and height ≥ 0`);
      return { label: (item.label as string).trim(), bbox: box as [number, number, number, number] };
    });
    out.push({ imagePath: (image as { path: string }).path, objects, source: { file, line: raw.line } });
  }
  return out;
}

type Lang = 'en' | 'zh';
const IRREGULAR: Readonly<Record<string, string>> = {
  person: 'people',
  man: 'men',
  woman: 'women',
  child: 'children',
  mouse: 'mice',
  knife: 'knives',
  sheep: 'sheep',
  fish: 'fish',
  deer: 'deer',
  scissors: 'scissors',
  skis: 'skis',
  glasses: 'glasses',
};
/** English plural of a (possibly multi-word) label: the last word is inflected. */
export function plural(label: string): string {
  const words = label.split(' ');
  const last = words.at(-1)!;
  const inflected =
    IRREGULAR[last.toLowerCase()] ??
    (/(s|x|z|ch|sh)$/i.test(last) ? `${last}es` : /[^aeiou]y$/i.test(last) ? `${last.slice(0, -1)}ies` : `${last}s`);
  return [...words.slice(0, -1), inflected].join(' ');
}
const countPhrase = (label: string, n: number, lang: Lang): string =>
  lang === 'zh' ? `${n}个${label}` : `${n} ${n === 1 ? label : plural(label)}`;
const list = (items: string[], lang: Lang): string =>
  items.length < 2
    ? (items[0] ?? '')
    : lang === 'zh'
      ? `${items.slice(0, -1).join('、')}和${items.at(-1)}`
      : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

export type DetectionTemplate = 'describe' | 'count' | 'position' | 'refusal';

/**
 * The question–answer pairs one template makes of one image's boxes (empty when the boxes do not
 * settle any); `others` are labels seen elsewhere in the data, for false premises.
 */
export function detectionPairs(
  template: DetectionTemplate,
  objects: readonly DetectedObject[],
  others: readonly string[],
  lang: Lang,
): [string, string][] {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
  const zh = lang === 'zh';
  switch (template) {
    case 'describe': {
      if (objects.length === 0)
        return [
          [
            zh ? '图中有哪些物体？' : 'What objects are in the image?',
            zh ? '图中没有标注的物体。' : 'There are no annotated objects in the image.',
          ],
        ];
      const parts = [...counts].map(([label, n]) => countPhrase(label, n, lang));
      return [
        [
          zh ? '图中有哪些物体？' : 'What objects are in the image?',
          zh ? `图中有${list(parts, lang)}。` : `The image contains ${list(parts, lang)}.`,
        ],
      ];
    }
    case 'count':
      return [...counts].map(([label, n]): [string, string] =>
        zh
          ? [`图中有几个${label}？`, `图中有${n}个${label}。`]
          : [`How many ${plural(label)} are there?`, `There ${n === 1 ? 'is' : 'are'} ${countPhrase(label, n, lang)}.`],
      );
    case 'position': {
      const single = objects.filter((o) => counts.get(o.label) === 1 && o.bbox);
      const pairs: [string, string][] = [];
      for (let i = 0; i < single.length; i++)
        for (let j = i + 1; j < single.length; j++) {
          const [a, b] = [single[i]!, single[j]!];
          const [ax, aw, bx, bw] = [a.bbox![0], a.bbox![2], b.bbox![0], b.bbox![2]];
          const side = ax + aw <= bx ? 'left' : bx + bw <= ax ? 'right' : undefined;
          if (!side) continue; // overlapping across: "left of" is a judgement call, not ground truth
          pairs.push(
            zh
              ? [`${a.label}在${b.label}的左边还是右边？`, `${a.label}在${b.label}的${side === 'left' ? '左边' : '右边'}。`]
              : [`Is the ${a.label} to the left or to the right of the ${b.label}?`, `The ${a.label} is to the ${side} of the ${b.label}.`],
          );
        }
      return pairs;
    }
    case 'refusal':
      return others
        .filter((label) => !counts.has(label))
        .slice(0, 1)
        .map((label): [string, string] =>
          zh
            ? [`${label}是什么颜色的？`, `图中没有${label}，我无法判断它的颜色。`]
            : [`What color is the ${label}?`, `There is no ${label} in the image, so I cannot tell its color.`],
        );
  }
}
