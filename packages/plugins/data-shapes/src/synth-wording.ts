// English and Chinese wording of synth.ts's beats. Question beats reuse the VQA wording of
// english.ts / chinese.ts (so synthesised answers agree with the shapes VQA data word for word);
// the rest follow the same conventions: American spelling, 颜色词 + 的 + 形状词, 两 before 个.
import { chinese } from './chinese';
import { english } from './english';
import type { Scene, SceneObject } from './scene';
import { leftToRight } from './scene';
import type { Beat } from './synth';
import { COLOR_INFO, EN_COUNT, SHAPE_WORDS, SHAPES, SIZE_INFO, ZH_COUNT, type ShapeName } from './vocabulary';

export interface SynthWording {
  /** [question, answer] of one beat. */
  beat(beat: Beat, scene: Scene): [string, string];
}

/** Where an object sits: thirds of the frame across, top/middle/bottom down (y grows downwards). */
export function regionOf(o: SceneObject): { h: 'left' | 'centre' | 'right'; v: 'top' | 'middle' | 'bottom' } {
  return { h: o.x < 30 ? 'left' : o.x > 70 ? 'right' : 'centre', v: o.y < 40 ? 'top' : o.y > 60 ? 'bottom' : 'middle' };
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
const enList = (items: readonly string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
const enNoun = (o: SceneObject): string => `${COLOR_INFO[o.color].en} ${SHAPE_WORDS[o.shape].en}`;
const enOne = (o: SceneObject, withSize = false): string => {
  const phrase = withSize ? `${SIZE_INFO[o.size].en} ${enNoun(o)}` : enNoun(o);
  return `${article(phrase)} ${phrase}`;
};
const enShapes = (shape: ShapeName, n: number): string => `${EN_COUNT[n]} ${n === 1 ? SHAPE_WORDS[shape].en : SHAPE_WORDS[shape].enPlural}`;
function enPlace(o: SceneObject): string {
  const { h, v } = regionOf(o);
  if (v === 'middle') return h === 'centre' ? 'in the center' : `on the ${h}`;
  return h === 'centre' ? `at the ${v}` : `in the ${v} ${h}`;
}
const CANNOT = 'so I cannot tell';

const ENGLISH: SynthWording = {
  beat(beat, scene) {
    switch (beat.kind) {
      case 'describe': {
        const n = scene.objects.length;
        const request = [
          'Describe this image in detail.',
          'Give a detailed description of the image.',
          'What is in this picture? Describe every shape and where it is.',
        ][beat.request]!;
        const background = scene.domain === 'A' ? 'plain' : 'textured';
        const each = leftToRight(scene).map((o) => `${cap(enOne(o, true))} is ${enPlace(o)}.`);
        const counts = SHAPES.map((s) => [s, scene.objects.filter((o) => o.shape === s).length] as const).filter(([, k]) => k > 0);
        const head = `The image shows ${n === 1 ? 'one shape' : `${EN_COUNT[n]} shapes`} on a ${background} background.`;
        return [request, [head, ...each, `In total: ${enList(counts.map(([s, k]) => enShapes(s, k)))}.`].join(' ')];
      }
      case 'question': {
        const worded = english.question(beat.spec);
        return [worded.question, worded.sentence];
      }
      case 'where':
        return [`Where is the ${enNoun(beat.target)}?`, `The ${enNoun(beat.target)} is ${enPlace(beat.target)}.`];
      case 'compare-size': {
        const { a, b } = beat;
        const question = `Which is larger, the ${enNoun(a)} or the ${enNoun(b)}?`;
        if (a.size === b.size) return [question, `They are the same size: both are ${SIZE_INFO[a.size].en}.`];
        return [question, `The ${enNoun(a.size === 'large' ? a : b)} is larger.`];
      }
      case 'compare-count': {
        const { a, b, countA, countB } = beat;
        const facts = `there ${countA === 1 ? 'is' : 'are'} ${enShapes(a, countA)} and ${enShapes(b, countB)}`;
        return [
          `Are there more ${SHAPE_WORDS[a].enPlural} than ${SHAPE_WORDS[b].enPlural}?`,
          `${countA > countB ? 'Yes' : 'No'}, ${facts}.`,
        ];
      }
      case 'leftmost':
        return ['What is the leftmost object?', `The leftmost object is ${enOne(beat.target)}.`];
      case 'right-of': {
        const ref = enNoun(beat.ref);
        const answer = beat.next
          ? `To the right of the ${ref} there is ${enOne(beat.next)}.`
          : `Nothing: the ${ref} is the rightmost object.`;
        return [`What is to the right of the ${ref}?`, answer];
      }
      case 'absent': {
        const shape = SHAPE_WORDS[beat.shape].en;
        return [`What color is the ${shape}?`, `There is no ${shape} in the image, ${CANNOT} its color.`];
      }
      case 'unanswerable': {
        const noun = enNoun(beat.target);
        return (
          [
            [`What is the ${noun} made of?`, `The image is a flat drawing and does not show what the ${noun} is made of, ${CANNOT}.`],
            ['Who drew this picture?', `The image does not say who drew it, ${CANNOT}.`],
            ['When was this picture made?', `The image holds no date or clock, ${CANNOT} when it was made.`],
            [`What is behind the ${noun}?`, `Only the shapes themselves are visible, not what is behind the ${noun}, ${CANNOT}.`],
          ] as const
        )[beat.which]!.slice() as [string, string];
      }
    }
  },
};

const zhNoun = (o: SceneObject, withSize = false): string =>
  `${COLOR_INFO[o.color].zh}的${withSize ? SIZE_INFO[o.size].zh : ''}${SHAPE_WORDS[o.shape].zh}`;
const zhShapes = (shape: ShapeName, n: number): string =>
  n === 0 ? `没有${SHAPE_WORDS[shape].zh}` : `有${ZH_COUNT[n]}个${SHAPE_WORDS[shape].zh}`;
function zhPlace(o: SceneObject): string {
  const { h, v } = regionOf(o);
  const hz = h === 'left' ? '左' : '右';
  const vz = v === 'top' ? '上' : '下';
  if (v === 'middle') return h === 'centre' ? '中央' : `${hz}侧`;
  return h === 'centre' ? `${vz}方` : `${hz}${vz}方`;
}
const ZH_CANNOT = '我无法判断';

const CHINESE: SynthWording = {
  beat(beat, scene) {
    switch (beat.kind) {
      case 'describe': {
        const request = ['详细描述这张图片。', '请详细描述图片的内容。', '图片里有什么？请描述每个图形和它的位置。'][beat.request]!;
        const background = scene.domain === 'A' ? '纯色' : '纹理';
        const each = leftToRight(scene).map((o) => `一个${zhNoun(o, true)}在图片的${zhPlace(o)}。`);
        const counts = SHAPES.map((s) => [s, scene.objects.filter((o) => o.shape === s).length] as const).filter(([, k]) => k > 0);
        const list = counts.map(([s, k]) => `${ZH_COUNT[k]}个${SHAPE_WORDS[s].zh}`);
        const total = list.length < 2 ? list[0]! : `${list.slice(0, -1).join('、')}和${list.at(-1)}`;
        return [request, `图中${background}背景上有${ZH_COUNT[scene.objects.length]}个图形。${each.join('')}一共是${total}。`];
      }
      case 'question': {
        const worded = chinese.question(beat.spec);
        return [worded.question, worded.sentence];
      }
      case 'where':
        return [`${zhNoun(beat.target)}在哪里？`, `${zhNoun(beat.target)}在图片的${zhPlace(beat.target)}。`];
      case 'compare-size': {
        const { a, b } = beat;
        const question = `${zhNoun(a)}和${zhNoun(b)}哪个更大？`;
        if (a.size === b.size) return [question, `它们一样大，都是${SIZE_INFO[a.size].zh}的。`];
        return [question, `${zhNoun(a.size === 'large' ? a : b)}更大。`];
      }
      case 'compare-count': {
        const { a, b, countA, countB } = beat;
        return [
          `图中${SHAPE_WORDS[a].zh}比${SHAPE_WORDS[b].zh}多吗？`,
          `${countA > countB ? '是的' : '不是'}，图中${zhShapes(a, countA)}，${zhShapes(b, countB)}。`,
        ];
      }
      case 'leftmost':
        return ['最左边的物体是什么？', `最左边的物体是一个${zhNoun(beat.target)}。`];
      case 'right-of': {
        const ref = zhNoun(beat.ref);
        const answer = beat.next ? `${ref}右边是一个${zhNoun(beat.next)}。` : `${ref}右边什么也没有，它是最右边的物体。`;
        return [`${ref}右边是什么？`, answer];
      }
      case 'absent': {
        const shape = SHAPE_WORDS[beat.shape].zh;
        return [`${shape}是什么颜色的？`, `图中没有${shape}，${ZH_CANNOT}它的颜色。`];
      }
      case 'unanswerable': {
        const noun = zhNoun(beat.target);
        return (
          [
            [`${noun}是用什么材料做的？`, `图片只是平面图形，看不出${noun}的材料，${ZH_CANNOT}。`],
            ['这张图是谁画的？', `图片中没有作者的信息，${ZH_CANNOT}。`],
            ['这张图是什么时候画的？', `图片中没有日期或时间的信息，${ZH_CANNOT}。`],
            [`${noun}后面有什么？`, `图片只显示了图形本身，看不到${noun}后面的东西，${ZH_CANNOT}。`],
          ] as const
        )[beat.which]!.slice() as [string, string];
      }
    }
  },
};

export const WORDING: Readonly<Record<'en' | 'zh', SynthWording>> = { en: ENGLISH, zh: CHINESE };
