// Chinese wording of scenes, questions and answers: 颜色词 + 的 + (大小) + 形状词 ("红色的小圆形"),
// the measure word 个 with 两 for two ("两个圆形"), 在…左边/右边 for relations, 有/没有 for existence.
import type { SeededRng } from '@mmft/image';
import type { QuestionSpec } from './facts';
import type { Language, WordedQuestion } from './language';
import { leftToRight, type Scene, type SceneObject } from './scene';
import { COLOR_INFO, SHAPE_WORDS, SHAPES, SIZE_INFO, ZH_COUNT } from './vocabulary';

const list = (items: readonly string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join('、')}和${items.at(-1)}`;

/** "红色的圆形" / with size "红色的小圆形". */
const noun = (o: SceneObject, withSize = false): string =>
  `${COLOR_INFO[o.color].zh}的${withSize ? SIZE_INFO[o.size].zh : ''}${SHAPE_WORDS[o.shape].zh}`;
const one = (o: SceneObject, withSize = false): string => `一个${noun(o, withSize)}`;
const sideWord = (side: 'left' | 'right'): string => (side === 'left' ? '左边' : '右边');
const sideOfImage = (o: SceneObject): string => (o.x < 30 ? '图片的左边' : o.x > 70 ? '图片的右边' : '图片的中间');

function relation(scene: Scene, rng: SeededRng): string {
  const order = leftToRight(scene);
  if (order.length === 1) return `${one(order[0] as SceneObject)}在${sideOfImage(order[0] as SceneObject)}。`;
  const i = rng.int(0, order.length - 2);
  const [a, b] = [order[i] as SceneObject, order[i + 1] as SceneObject];
  return rng.float() < 0.5 ? `${one(a)}在${noun(b)}左边。` : `${noun(b)}在${noun(a)}右边。`;
}

function counts(scene: Scene): string {
  const parts = SHAPES.map((s) => [s, scene.objects.filter((o) => o.shape === s).length] as const).filter(([, n]) => n > 0);
  return `图中有${ZH_COUNT[scene.objects.length]}个图形：${list(parts.map(([s, n]) => `${ZH_COUNT[n]}个${SHAPE_WORDS[s].zh}`))}。`;
}

export const chinese: Language = {
  lang: 'zh',
  captions(scene, rng) {
    const background = scene.domain === 'A' ? '纯色背景' : '纹理背景';
    return [
      `图中有${list(scene.objects.map((o) => one(o, true)))}。`,
      this.orderCaption(scene),
      relation(scene, rng),
      counts(scene),
      `${background}上有${list(scene.objects.map((o) => one(o)))}。`,
    ];
  },
  orderCaption(scene) {
    const order = leftToRight(scene);
    if (order.length === 1) return `图中只有${one(order[0] as SceneObject)}。`;
    return `从左到右依次是：${list(order.map((o) => noun(o)))}。`;
  },
  question(spec: QuestionSpec): WordedQuestion {
    switch (spec.type) {
      case 'color': {
        const subject = spec.by === 'shape' ? SHAPE_WORDS[spec.target.shape].zh : '最左边的物体';
        const color = COLOR_INFO[spec.target.color].zh;
        return { question: `${subject}是什么颜色的？`, answer: color, sentence: `${subject}是${color}的。` };
      }
      case 'shape': {
        const subject = `${COLOR_INFO[spec.target.color].zh}的物体`;
        const shape = SHAPE_WORDS[spec.target.shape].zh;
        return { question: `${subject}是什么形状？`, answer: shape, sentence: `${subject}是${shape}。` };
      }
      case 'count': {
        const n = spec.count;
        if (spec.shape === undefined)
          return { question: '图中一共有几个物体？', answer: String(n), sentence: `图中一共有${ZH_COUNT[n]}个物体。` };
        const shape = SHAPE_WORDS[spec.shape].zh;
        return {
          question: `图中有几个${shape}？`,
          answer: String(n),
          sentence: n === 0 ? `图中没有${shape}。` : `图中有${ZH_COUNT[n]}个${shape}。`,
        };
      }
      case 'position':
        return {
          question: `${noun(spec.a)}在${noun(spec.b)}的左边还是右边？`,
          answer: sideWord(spec.side),
          sentence: `${noun(spec.a)}在${noun(spec.b)}${sideWord(spec.side)}。`,
        };
      case 'exists': {
        const phrase = `${COLOR_INFO[spec.color].zh}的${SHAPE_WORDS[spec.shape].zh}`;
        return {
          question: `图中有${phrase}吗？`,
          answer: spec.answer ? '有' : '没有',
          sentence: spec.answer ? `有，图中有一个${phrase}。` : `没有，图中没有${phrase}。`,
        };
      }
    }
  },
  describeRequest: (rng) => rng.pick(['描述这张图片。', '你在这张图片里看到了什么？', '描述图中的图形。']),
};
