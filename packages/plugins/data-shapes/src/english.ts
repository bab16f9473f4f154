// English wording of scenes, questions and answers. Answers use VQA v2's conventions (lower case,
// digits for numbers, "yes"/"no"); the spelling is American ("color"), as in COCO and VQA.
import type { SeededRng } from '@mmft/image';
import type { QuestionSpec } from './facts';
import type { Language, WordedQuestion } from './language';
import { leftToRight, type Scene, type SceneObject } from './scene';
import { COLOR_INFO, EN_COUNT, SHAPE_WORDS, SHAPES, SIZE_INFO, type ShapeName } from './vocabulary';

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
const list = (items: readonly string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

const noun = (o: SceneObject): string => `${COLOR_INFO[o.color].en} ${SHAPE_WORDS[o.shape].en}`;
const indefinite = (o: SceneObject, withSize = false): string => {
  const phrase = withSize ? `${SIZE_INFO[o.size].en} ${noun(o)}` : noun(o);
  return `${article(phrase)} ${phrase}`;
};
const definite = (o: SceneObject): string => `the ${noun(o)}`;
const shapes = (shape: ShapeName, n: number): string => `${EN_COUNT[n]} ${n === 1 ? SHAPE_WORDS[shape].en : SHAPE_WORDS[shape].enPlural}`;
const sideOfImage = (o: SceneObject): string =>
  o.x < 30 ? 'on the left of the image' : o.x > 70 ? 'on the right of the image' : 'in the middle of the image';

function relation(scene: Scene, rng: SeededRng): string {
  const order = leftToRight(scene);
  if (order.length === 1) return `${cap(indefinite(order[0] as SceneObject))} ${sideOfImage(order[0] as SceneObject)}.`;
  const i = rng.int(0, order.length - 2);
  const [a, b] = [order[i] as SceneObject, order[i + 1] as SceneObject];
  return rng.float() < 0.5
    ? `${cap(indefinite(a))} to the left of ${indefinite(b)}.`
    : `${cap(definite(b))} is to the right of ${definite(a)}.`;
}

function counts(scene: Scene): string {
  const parts = SHAPES.map((s) => [s, scene.objects.filter((o) => o.shape === s).length] as const).filter(([, n]) => n > 0);
  const total = scene.objects.length;
  const head = total === 1 ? 'There is one shape' : `There are ${EN_COUNT[total]} shapes`;
  return `${head}: ${list(parts.map(([s, n]) => (n === 1 ? `${article(SHAPE_WORDS[s].en)} ${SHAPE_WORDS[s].en}` : shapes(s, n))))}.`;
}

export const english: Language = {
  lang: 'en',
  captions(scene, rng) {
    const background = scene.domain === 'A' ? 'a plain background' : 'a textured background';
    return [
      `${cap(list(scene.objects.map((o) => indefinite(o, true))))}.`,
      this.orderCaption(scene),
      relation(scene, rng),
      counts(scene),
      `${cap(list(scene.objects.map((o) => indefinite(o))))} on ${background}.`,
    ];
  },
  orderCaption(scene) {
    const order = leftToRight(scene);
    if (order.length === 1) return `Only ${indefinite(order[0] as SceneObject)}.`;
    return `From left to right: ${list(order.map((o) => indefinite(o)))}.`;
  },
  question(spec: QuestionSpec): WordedQuestion {
    switch (spec.type) {
      case 'color': {
        const subject = spec.by === 'shape' ? `the ${SHAPE_WORDS[spec.target.shape].en}` : 'the leftmost object';
        const color = COLOR_INFO[spec.target.color].en;
        return { question: `What color is ${subject}?`, answer: color, sentence: `${cap(subject)} is ${color}.` };
      }
      case 'shape': {
        const shape = SHAPE_WORDS[spec.target.shape].en;
        const subject = `the ${COLOR_INFO[spec.target.color].en} object`;
        return { question: `What shape is ${subject}?`, answer: shape, sentence: `${cap(subject)} is ${article(shape)} ${shape}.` };
      }
      case 'count': {
        const n = spec.count;
        if (spec.shape === undefined)
          return {
            question: 'How many objects are there?',
            answer: String(n),
            sentence: `There ${n === 1 ? 'is one object' : `are ${EN_COUNT[n]} objects`}.`,
          };
        const plural = SHAPE_WORDS[spec.shape].enPlural;
        return {
          question: `How many ${plural} are there?`,
          answer: String(n),
          sentence: `There ${n === 1 ? 'is' : 'are'} ${shapes(spec.shape, n)}.`,
        };
      }
      case 'position':
        return {
          question: `Is ${definite(spec.a)} to the left or to the right of ${definite(spec.b)}?`,
          answer: spec.side,
          sentence: `${cap(definite(spec.a))} is to the ${spec.side} of ${definite(spec.b)}.`,
        };
      case 'exists': {
        const phrase = `${COLOR_INFO[spec.color].en} ${SHAPE_WORDS[spec.shape].en}`;
        return {
          question: `Is there ${article(phrase)} ${phrase}?`,
          answer: spec.answer ? 'yes' : 'no',
          sentence: spec.answer ? `Yes, there is ${article(phrase)} ${phrase}.` : `No, there is no ${phrase}.`,
        };
      }
    }
  },
  describeRequest: (rng) => rng.pick(['Describe this image.', 'What do you see in this picture?', 'Describe the shapes in the image.']),
};
