// Instruction conversations synthesised from a scene's ground truth (LLaVA-Instruct's recipe of
// description, conversation and reasoning turns, LLaVA:docs/Data.md, but written from templates
// instead of a paid API). A template decides *what* is said (a plan of beats, language-free, drawn
// from one seeded stream so the English and Chinese conversations of an image translate each other);
// synth-wording.ts decides how each beat is worded.
import type { ConversationTurn } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { questionOf, type QuestionSpec } from './facts';
import { leftToRight, type Scene, type SceneObject } from './scene';
import { WORDING } from './synth-wording';
import { SHAPES, type ShapeName } from './vocabulary';

/** Keeps synthesis draws apart from those of the four tasks (examples.ts salts 1–5). */
const SYNTH_SALT = 17;

export const SYNTH_TEMPLATES = ['describe', 'count', 'color', 'position', 'compare', 'multi-turn', 'refusal'] as const;
export type SynthTemplate = (typeof SYNTH_TEMPLATES)[number];

/** One question and its answer, independent of language. */
export type Beat =
  | { readonly kind: 'describe'; readonly request: number }
  | { readonly kind: 'question'; readonly spec: QuestionSpec }
  | { readonly kind: 'where'; readonly target: SceneObject }
  | { readonly kind: 'compare-size'; readonly a: SceneObject; readonly b: SceneObject }
  | { readonly kind: 'compare-count'; readonly a: ShapeName; readonly b: ShapeName; readonly countA: number; readonly countB: number }
  | { readonly kind: 'leftmost'; readonly target: SceneObject }
  | { readonly kind: 'right-of'; readonly ref: SceneObject; readonly next?: SceneObject }
  | { readonly kind: 'absent'; readonly shape: ShapeName }
  | { readonly kind: 'unanswerable'; readonly which: number; readonly target: SceneObject };

/** Requests for a detailed description, and questions no picture of shapes can answer (wordings in synth-wording.ts). */
export const DESCRIBE_REQUESTS = 3;
export const UNANSWERABLE = 4;

const countOf = (scene: Scene, shape: ShapeName): number => scene.objects.filter((o) => o.shape === shape).length;

/** The beats of `template` for `scene`: everything random is drawn here, from `rng`. */
export function planOf(template: SynthTemplate, scene: Scene, rng: SeededRng): Beat[] {
  const objects = scene.objects;
  switch (template) {
    case 'describe':
      return [{ kind: 'describe', request: rng.int(0, DESCRIBE_REQUESTS - 1) }];
    case 'count':
      return [{ kind: 'question', spec: questionOf('count', scene, rng) }];
    case 'color':
      return [{ kind: 'question', spec: questionOf('color', scene, rng) }];
    case 'position':
      return objects.length > 1 && rng.float() < 0.7
        ? [{ kind: 'question', spec: questionOf('position', scene, rng) }]
        : [{ kind: 'where', target: rng.pick(objects) }];
    case 'compare': {
      if (objects.length > 1 && rng.float() < 0.5) {
        const [a, b] = rng.shuffle(objects) as [SceneObject, SceneObject];
        return [{ kind: 'compare-size', a, b }];
      }
      // one shape the image holds against any other (often absent: "more circles than stars?" → "there are no stars")
      const a = rng.pick(objects).shape;
      const b = rng.pick(SHAPES.filter((s) => s !== a));
      return [{ kind: 'compare-count', a, b, countA: countOf(scene, a), countB: countOf(scene, b) }];
    }
    case 'multi-turn': {
      // a walk left to right with "and to its right?" follow-ups, closed by a count: each answer
      // depends on the previous turn, which single-question data never teaches
      const order = leftToRight(scene);
      const steps = Math.min(order.length, rng.int(1, 2));
      const beats: Beat[] = [{ kind: 'leftmost', target: order[0]! }];
      for (let i = 0; i < steps; i++) beats.push({ kind: 'right-of', ref: order[i]!, ...(order[i + 1] ? { next: order[i + 1] } : {}) });
      beats.push({ kind: 'question', spec: { type: 'count', count: objects.length } });
      return beats;
    }
    case 'refusal': {
      // a false premise (a shape the image lacks) or a question about what no image of shapes shows
      const absent = SHAPES.filter((s) => countOf(scene, s) === 0);
      if (absent.length > 0 && rng.float() < 0.5) return [{ kind: 'absent', shape: rng.pick(absent) }];
      return [{ kind: 'unanswerable', which: rng.int(0, UNANSWERABLE - 1), target: rng.pick(objects) }];
    }
  }
}

export interface SynthConversation {
  readonly template: SynthTemplate;
  readonly lang: 'en' | 'zh';
  readonly turns: ConversationTurn[];
}

/**
 * The conversation `template` makes of `scene` in `lang`; the first user turn starts with `<image>\n`
 * as in LLaVA's data. Depends only on (scene, template, seed): English and Chinese share one plan.
 *
 * @example
 * synthConversation(sampleScene(0, 3, 'B', 4), 'count', 'zh', 0).turns[1].content // '图中有两个圆形。'
 */
export function synthConversation(scene: Scene, template: SynthTemplate, lang: 'en' | 'zh', seed: number): SynthConversation {
  const rng = new SeededRng(deriveSeed(seed, scene.styleSeed, SYNTH_SALT, SYNTH_TEMPLATES.indexOf(template)));
  const wording = WORDING[lang];
  const turns: ConversationTurn[] = [];
  for (const beat of planOf(template, scene, rng)) {
    const [question, answer] = wording.beat(beat, scene);
    turns.push({ role: 'user', content: turns.length === 0 ? `<image>\n${question}` : question }, { role: 'assistant', content: answer });
  }
  return { template, lang, turns };
}
