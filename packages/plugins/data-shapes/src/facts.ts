// What can be asked about a scene, independent of language: the question specs the VQA and
// instruction tasks draw, with their true answers computed from the scene's ground truth.
import type { SeededRng } from '@mmft/image';
import { leftToRight, type Scene, type SceneObject } from './scene';
import { COLORS, SHAPES, type ColorName, type ShapeName } from './vocabulary';

export type QuestionSpec =
  | { readonly type: 'color'; readonly target: SceneObject; readonly by: 'shape' | 'leftmost' }
  | { readonly type: 'shape'; readonly target: SceneObject }
  | { readonly type: 'count'; readonly shape?: ShapeName; readonly count: number }
  | { readonly type: 'position'; readonly a: SceneObject; readonly b: SceneObject; readonly side: 'left' | 'right' }
  | { readonly type: 'exists'; readonly shape: ShapeName; readonly color: ColorName; readonly answer: boolean };

export type QuestionType = QuestionSpec['type'];
export const QUESTION_TYPES: readonly QuestionType[] = ['color', 'shape', 'count', 'position', 'exists'];

const countOf = (scene: Scene, shape: ShapeName): number => scene.objects.filter((o) => o.shape === shape).length;

/** One question of `type` about `scene` (position needs two objects: falls back to count). */
export function questionOf(type: QuestionType, scene: Scene, rng: SeededRng): QuestionSpec {
  const objects = scene.objects;
  switch (type) {
    case 'color': {
      const unique = objects.filter((o) => countOf(scene, o.shape) === 1);
      // an object is named by its shape only when that shape is unique in the scene
      return unique.length > 0
        ? { type, target: rng.pick(unique), by: 'shape' }
        : { type, target: leftToRight(scene)[0] as SceneObject, by: 'leftmost' };
    }
    case 'shape':
      return { type, target: rng.pick(objects) };
    case 'count': {
      if (rng.float() < 0.25) return { type, count: objects.length };
      const shape = rng.float() < 0.75 ? rng.pick(objects).shape : rng.pick(SHAPES);
      return { type, shape, count: countOf(scene, shape) };
    }
    case 'position': {
      if (objects.length < 2) return questionOf('count', scene, rng);
      const [a, b] = rng.shuffle(objects) as [SceneObject, SceneObject];
      return { type, a, b, side: a.x < b.x ? 'left' : 'right' };
    }
    case 'exists': {
      if (rng.float() < 0.5) {
        const o = rng.pick(objects);
        return { type, shape: o.shape, color: o.color, answer: true };
      }
      // a hard "no": often a colour that is present, on a shape it does not have
      for (;;) {
        const color = rng.float() < 0.6 ? rng.pick(objects).color : rng.pick(COLORS);
        const shape = rng.pick(SHAPES);
        if (!objects.some((o) => o.color === color && o.shape === shape)) return { type, shape, color, answer: false };
      }
    }
  }
}

/** `count` questions of distinct types where the scene allows it, in random order. */
export function sampleQuestions(scene: Scene, rng: SeededRng, count: number): QuestionSpec[] {
  const types = rng.shuffle(QUESTION_TYPES.filter((t) => t !== 'position' || scene.objects.length > 1));
  return Array.from({ length: count }, (_, i) => questionOf(types[i % types.length] as QuestionType, scene, rng));
}
