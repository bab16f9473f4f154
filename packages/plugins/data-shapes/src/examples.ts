// Scene ground truth → typed examples of the four tasks. Both languages draw from the same seeded
// choices, so the English and Chinese data of an image are translations of each other.
import type { ConversationTurn, Example, ImageRef, TaskKind } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { chinese } from './chinese';
import { english } from './english';
import { sampleQuestions } from './facts';
import type { Language } from './language';
import type { Scene } from './scene';
import { COLORS, SHAPES } from './vocabulary';

export const LANGUAGES: Readonly<Record<'en' | 'zh', Language>> = { en: english, zh: chinese };
const TASK_SALT: Readonly<Record<TaskKind, number>> = { caption: 1, vqa: 2, retrieval: 3, instruction: 4, text: 5, interleaved: 6 };

/**
 * Hard negatives (ARO / SugarCrepe style): the same objects with two colours swapped, or two
 * positions swapped; a one-object scene gets a new colour or a new shape instead.
 */
export function hardNegativeScenes(scene: Scene, rng: SeededRng): Scene[] {
  const objects = scene.objects;
  if (objects.length === 1) {
    const o = objects[0]!;
    const color = rng.pick(COLORS.filter((c) => c !== o.color));
    const shape = rng.pick(SHAPES.filter((s) => s !== o.shape));
    return [
      { ...scene, objects: [{ ...o, color }] },
      { ...scene, objects: [{ ...o, shape }] },
    ];
  }
  const [i, j] = rng.shuffle([...objects.keys()]).slice(0, 2) as [number, number];
  const [a, b] = [objects[i]!, objects[j]!];
  const swapped = (pa: typeof a, pb: typeof b) => objects.map((o, k) => (k === i ? pa : k === j ? pb : o));
  return [
    { ...scene, objects: swapped({ ...a, color: b.color }, { ...b, color: a.color }) },
    { ...scene, objects: swapped({ ...a, x: b.x, y: b.y }, { ...b, x: a.x, y: a.y }) },
  ];
}

function turnsFor(scene: Scene, language: Language, rng: SeededRng, questions: number): ConversationTurn[] {
  const turns: ConversationTurn[] = [
    { role: 'user', content: `<image>\n${language.describeRequest(rng)}` },
    { role: 'assistant', content: language.captions(scene, rng)[0]! },
  ];
  for (const spec of sampleQuestions(scene, rng, questions)) {
    const worded = language.question(spec);
    turns.push({ role: 'user', content: worded.question }, { role: 'assistant', content: worded.sentence });
  }
  return turns;
}

export interface ExampleOptions {
  readonly task: TaskKind;
  readonly langs: readonly ('en' | 'zh')[];
  readonly questionsPerImage: number;
}

/**
 * Every example of one image for one task, in a fixed order (language, then question).
 *
 * @example
 * buildExamples(scene, image, 'shapes-A-000003', { task: 'vqa', langs: ['en', 'zh'], questionsPerImage: 3 });
 */
export function buildExamples(scene: Scene, image: ImageRef, idPrefix: string, options: ExampleOptions): Example[] {
  const out: Example[] = [];
  for (const lang of options.langs) {
    const language = LANGUAGES[lang];
    const rng = new SeededRng(deriveSeed(scene.styleSeed, TASK_SALT[options.task]));
    const base = { image, lang };
    switch (options.task) {
      case 'caption':
        out.push({ ...base, id: `${idPrefix}-${lang}`, task: 'caption', captions: language.captions(scene, rng) });
        break;
      case 'vqa':
        for (const [q, spec] of sampleQuestions(scene, rng, options.questionsPerImage).entries()) {
          const worded = language.question(spec);
          // Synthetic ground truth has one answer: the 10 "human" answers are 10 copies, so VQA accuracy is exact match.
          out.push({
            ...base,
            id: `${idPrefix}-${lang}-q${q}`,
            task: 'vqa',
            question: worded.question,
            answer: worded.answer,
            answers: Array(10).fill(worded.answer),
            questionType: spec.type,
            answerType: spec.type === 'exists' ? 'yes/no' : spec.type === 'count' ? 'number' : 'other',
          });
        }
        break;
      case 'retrieval': {
        const texts = language.captions(scene, rng);
        // two swaps can word the same (two same-shaped objects): keep each negative once
        const negatives = [...new Set(hardNegativeScenes(scene, rng).map((s) => language.orderCaption(s)))].filter(
          (t) => !texts.includes(t),
        );
        out.push({ ...base, id: `${idPrefix}-${lang}`, task: 'retrieval', texts, negativeTexts: negatives });
        break;
      }
      case 'instruction':
        out.push({ ...base, id: `${idPrefix}-${lang}`, task: 'instruction', turns: turnsFor(scene, language, rng, 2) });
        break;
    }
  }
  return out;
}
