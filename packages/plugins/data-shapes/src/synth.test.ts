import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { sampleScene, type Scene, type SceneObject } from './scene';
import { synthConversation, SYNTH_TEMPLATES, type SynthTemplate } from './synth';
import { dedupKey, synthRecordsOf, writeShapesSynth } from './synth-write';
import { shapesConfigSchema } from './config';
import { shapesDataset } from './plugin';

// Independent restatement of the ground truth the text must agree with (not imported from the generator).
const EN_NUM: Record<string, number> = { no: 0, one: 1, two: 2, three: 3, four: 4 };
const ZH_NUM: Record<string, number> = { 零: 0, 一: 1, 两: 2, 三: 3, 四: 4 };
const EN_PLURAL: Record<string, string> = {
  circles: 'circle',
  squares: 'square',
  triangles: 'triangle',
  stars: 'star',
  hexagons: 'hexagon',
};
const ZH_SHAPE: Record<string, string> = { 圆形: 'circle', 正方形: 'square', 三角形: 'triangle', 星形: 'star', 六边形: 'hexagon' };
const ZH_COLOR: Record<string, string> = { 红色: 'red', 绿色: 'green', 蓝色: 'blue', 黄色: 'yellow', 紫色: 'purple', 橙色: 'orange' };
const zhShape = (w: string): string => ZH_SHAPE[w] ?? fail(`not a shape: ${w}`);
const zhColor = (w: string): string => ZH_COLOR[w] ?? fail(`not a colour: ${w}`);
function fail(message: string): never {
  throw new Error(message);
}
const count = (scene: Scene, shape?: string): number => scene.objects.filter((o) => shape === undefined || o.shape === shape).length;
const byColor = (scene: Scene, color: string): SceneObject => scene.objects.find((o) => o.color === color) ?? fail(`no ${color} object`);
const ordered = (scene: Scene): SceneObject[] => [...scene.objects].sort((a, b) => a.x - b.x);
function place(o: SceneObject): [string, string] {
  const h = o.x < 30 ? 'left' : o.x > 70 ? 'right' : '';
  const v = o.y < 40 ? 'top' : o.y > 60 ? 'bottom' : '';
  const en = !h && !v ? 'in the center' : !v ? `on the ${h}` : !h ? `at the ${v}` : `in the ${v} ${h}`;
  const hz = { left: '左', right: '右', '': '' }[h];
  const vz = { top: '上', bottom: '下', '': '' }[v];
  const zh = !h && !v ? '中央' : !v ? `${hz}侧` : `${hz}${vz}方`;
  return [en, zh];
}

/** Parses one English conversation and checks every claim against `scene`; returns the number of claims checked. */
function checkEnglish(scene: Scene, template: SynthTemplate, texts: string[]): number {
  const [q, a] = [texts[0]!.replace('<image>\n', ''), texts[1]!];
  let m: RegExpMatchArray | null;
  let claims = 0;
  const claim = (actual: unknown, expected: unknown) => {
    expect(actual).toEqual(expected);
    claims += 1;
  };
  switch (template) {
    case 'describe': {
      claim(EN_NUM[a.match(/^The image shows (\w+) shapes? on a (plain|textured) background\./)![1]!], scene.objects.length);
      claim(a.includes(scene.domain === 'A' ? 'plain' : 'textured'), true);
      const objects = [...a.matchAll(/An? (small|large) (\w+) (\w+) is ([a-z ]+)\./g)];
      claim(objects.length, scene.objects.length);
      objects.forEach((o, i) => {
        const truth = ordered(scene)[i]!;
        claim([o[1], o[2], o[3], o[4]], [truth.size, truth.color, truth.shape, place(truth)[0]]);
      });
      for (const t of a.match(/In total: (.*)\.$/)![1]!.split(/, | and /)) {
        const [n, word] = t.split(' ') as [string, string];
        claim(EN_NUM[n], count(scene, EN_PLURAL[word] ?? word));
      }
      return claims;
    }
    case 'count':
      m = q.match(/^How many (\w+) are there\?$/)!;
      claim(EN_NUM[a.match(/^There (?:is|are) (\w+) /)![1]!], count(scene, m[1] === 'objects' ? undefined : EN_PLURAL[m[1]!]));
      return claims;
    case 'color':
      m = q.match(/^What color is the (\w+)( object)?\?$/)!;
      if (m[2]) claim(a, `The leftmost object is ${ordered(scene)[0]!.color}.`);
      else {
        claim(count(scene, m[1]), 1);
        claim(a, `The ${m[1]} is ${scene.objects.find((o) => o.shape === m![1])!.color}.`);
      }
      return claims;
    case 'position':
      if ((m = q.match(/^Is the (\w+) (\w+) to the left or to the right of the (\w+) (\w+)\?$/))) {
        const [x, y] = [byColor(scene, m[1]!), byColor(scene, m[3]!)];
        claim([x.shape, y.shape], [m[2], m[4]]);
        claim(a, `The ${m[1]} ${m[2]} is to the ${x.x < y.x ? 'left' : 'right'} of the ${m[3]} ${m[4]}.`);
      } else {
        m = q.match(/^Where is the (\w+) (\w+)\?$/)!;
        claim(a, `The ${m[1]} ${m[2]} is ${place(byColor(scene, m[1]!))[0]}.`);
      }
      return claims;
    case 'compare':
      if ((m = q.match(/^Which is larger, the (\w+) (\w+) or the (\w+) (\w+)\?$/))) {
        const [x, y] = [byColor(scene, m[1]!), byColor(scene, m[3]!)];
        if (x.size === y.size) claim(a, `They are the same size: both are ${x.size}.`);
        else claim(a, `The ${x.size === 'large' ? `${m[1]} ${m[2]}` : `${m[3]} ${m[4]}`} is larger.`);
      } else {
        m = q.match(/^Are there more (\w+) than (\w+)\?$/)!;
        const [na, nb] = [count(scene, EN_PLURAL[m[1]!]), count(scene, EN_PLURAL[m[2]!])];
        const facts = a.match(/^(Yes|No), there (?:is|are) (\w+) \w+ and (\w+) \w+\.$/)!;
        claim([facts[1], EN_NUM[facts[2]!], EN_NUM[facts[3]!]], [na > nb ? 'Yes' : 'No', na, nb]);
      }
      return claims;
    case 'multi-turn': {
      const order = ordered(scene);
      claim(q, 'What is the leftmost object?');
      claim(a, `The leftmost object is ${/^[aeiou]/.test(order[0]!.color) ? 'an' : 'a'} ${order[0]!.color} ${order[0]!.shape}.`);
      for (let i = 2; i < texts.length - 2; i += 2) {
        const ref = order[i / 2 - 1]!;
        claim(texts[i], `What is to the right of the ${ref.color} ${ref.shape}?`);
        const next = order[i / 2];
        claim(
          texts[i + 1]!.includes(next ? `there is a${/^[aeiou]/.test(next.color) ? 'n' : ''} ${next.color} ${next.shape}.` : 'rightmost'),
          true,
        );
      }
      claim(EN_NUM[texts.at(-1)!.match(/^There (?:is|are) (\w+) objects?\.$/)![1]!], scene.objects.length);
      return claims;
    }
    case 'refusal':
      if ((m = q.match(/^What color is the (\w+)\?$/))) claim(count(scene, m[1]), 0);
      claim(a.includes('cannot tell'), true);
      if ((m = q.match(/the (\w+) (\w+)/))) claim(byColor(scene, m[1]!).shape, m[2]);
      return claims;
  }
}

/** The same for Chinese. */
function checkChinese(scene: Scene, template: SynthTemplate, texts: string[]): number {
  const [q, a] = [texts[0]!.replace('<image>\n', ''), texts[1]!];
  let m: RegExpMatchArray | null;
  let claims = 0;
  const claim = (actual: unknown, expected: unknown) => {
    expect(actual).toEqual(expected);
    claims += 1;
  };
  const S = '(圆形|正方形|三角形|星形|六边形)';
  const C = '(红色|绿色|蓝色|黄色|紫色|橙色)';
  switch (template) {
    case 'describe': {
      m = a.match(/^图中(纯色|纹理)背景上有(.)个图形。/)!;
      claim([m[1], ZH_NUM[m[2]!]], [scene.domain === 'A' ? '纯色' : '纹理', scene.objects.length]);
      const objects = [...a.matchAll(new RegExp(`一个${C}的(小|大)${S}在图片的([^。]+)。`, 'g'))];
      claim(objects.length, scene.objects.length);
      objects.forEach((o, i) => {
        const t = ordered(scene)[i]!;
        claim([zhColor(o[1]!), o[2] === '大' ? 'large' : 'small', zhShape(o[3]!), o[4]], [t.color, t.size, t.shape, place(t)[1]]);
      });
      for (const part of a.match(/一共是(.*)。$/)![1]!.split(/、|和/)) claim(ZH_NUM[part[0]!], count(scene, zhShape(part.slice(2))));
      return claims;
    }
    case 'count':
      if (q === '图中一共有几个物体？') claim(ZH_NUM[a.match(/^图中一共有(.)个物体。$/)![1]!], scene.objects.length);
      else {
        const shape = zhShape(q.match(new RegExp(`^图中有几个${S}？$`))![1]!);
        claim(a.startsWith('图中没有') ? 0 : ZH_NUM[a.match(/^图中有(.)个/)![1]!], count(scene, shape));
      }
      return claims;
    case 'color':
      if ((m = q.match(new RegExp(`^${S}是什么颜色的？$`)))) {
        const shape = zhShape(m[1]!);
        claim(count(scene, shape), 1);
        claim(zhColor(a.match(new RegExp(`是${C}的。$`))![1]!), scene.objects.find((o) => o.shape === shape)!.color);
      } else claim(zhColor(a.match(new RegExp(`^最左边的物体是${C}的。$`))![1]!), ordered(scene)[0]!.color);
      return claims;
    case 'position':
      if ((m = q.match(new RegExp(`^${C}的${S}在${C}的${S}的左边还是右边？$`)))) {
        const [x, y] = [byColor(scene, zhColor(m[1]!)), byColor(scene, zhColor(m[3]!))];
        claim([x.shape, y.shape], [zhShape(m[2]!), zhShape(m[4]!)]);
        claim(a.endsWith(x.x < y.x ? '左边。' : '右边。'), true);
      } else {
        m = q.match(new RegExp(`^${C}的${S}在哪里？$`))!;
        claim(a.match(/在图片的(.+)。$/)![1], place(byColor(scene, zhColor(m[1]!)))[1]);
      }
      return claims;
    case 'compare':
      if ((m = q.match(new RegExp(`^${C}的${S}和${C}的${S}哪个更大？$`)))) {
        const [x, y] = [byColor(scene, zhColor(m[1]!)), byColor(scene, zhColor(m[3]!))];
        if (x.size === y.size) claim(a, `它们一样大，都是${x.size === 'large' ? '大' : '小'}的。`);
        else claim(zhColor(a.match(new RegExp(`^${C}的`))![1]!), (x.size === 'large' ? x : y).color);
      } else {
        m = q.match(new RegExp(`^图中${S}比${S}多吗？$`))!;
        const [na, nb] = [count(scene, zhShape(m[1]!)), count(scene, zhShape(m[2]!))];
        const n = (s: string) => (s.startsWith('没有') ? 0 : ZH_NUM[s[1]!]);
        const facts = a.match(/^(是的|不是)，图中([^，]+)，([^。]+)。$/)!;
        claim([facts[1], n(facts[2]!), n(facts[3]!)], [na > nb ? '是的' : '不是', na, nb]);
      }
      return claims;
    case 'multi-turn': {
      const order = ordered(scene);
      claim(zhColor(a.match(new RegExp(`^最左边的物体是一个${C}的`))![1]!), order[0]!.color);
      for (let i = 2; i < texts.length - 2; i += 2) {
        const [ref, next] = [order[i / 2 - 1]!, order[i / 2]];
        claim(zhColor(texts[i]!.match(new RegExp(`^${C}的`))![1]!), ref.color);
        if (next) claim(zhColor(texts[i + 1]!.match(new RegExp(`右边是一个${C}的`))![1]!), next.color);
        else claim(texts[i + 1]!.endsWith('它是最右边的物体。'), true);
      }
      claim(ZH_NUM[texts.at(-1)!.match(/^图中一共有(.)个物体。$/)![1]!], scene.objects.length);
      return claims;
    }
    case 'refusal':
      if ((m = q.match(new RegExp(`^${S}是什么颜色的？$`)))) claim(count(scene, zhShape(m[1]!)), 0);
      claim(a.includes('我无法判断'), true);
      if ((m = q.match(new RegExp(`^${C}的${S}`)))) claim(byColor(scene, zhColor(m[1]!)).shape, zhShape(m[2]!));
      return claims;
  }
}

const scenes = Array.from({ length: 60 }, (_, i) => sampleScene(7, i, i % 2 ? 'B' : 'A', 4));

describe('shapes synthesis', () => {
  test.each(SYNTH_TEMPLATES.map((t) => [t]))('%s: every English and Chinese conversation agrees with the scene', (template) => {
    let claims = 0;
    const questions = new Set<string>();
    for (const scene of scenes) {
      const en = synthConversation(scene, template, 'en', 3).turns;
      const zh = synthConversation(scene, template, 'zh', 3).turns;
      expect(en.map((t) => t.role)).toEqual(zh.map((t) => t.role)); // one plan, two languages
      expect(en.map((t) => t.role)).toEqual(en.map((_, i) => (i % 2 ? 'assistant' : 'user')));
      expect(en[0]!.content.startsWith('<image>\n') && zh[0]!.content.startsWith('<image>\n')).toBe(true);
      expect(en.filter((t) => t.content.includes('<image>'))).toHaveLength(1);
      claims += checkEnglish(
        scene,
        template,
        en.map((t) => t.content),
      );
      claims += checkChinese(
        scene,
        template,
        zh.map((t) => t.content),
      );
      questions.add(en[0]!.content.split(/ the | of /)[0]!);
    }
    expect(claims).toBeGreaterThanOrEqual(2 * scenes.length); // at least one claim per conversation
    // both branches of the templates that have two kinds of question are drawn over 60 scenes
    if (['position', 'compare', 'refusal'].includes(template)) expect(questions.size).toBeGreaterThan(1);
  });

  test('a hand-checked scene', () => {
    const scene: Scene = {
      index: 0,
      domain: 'A',
      styleSeed: 1,
      objects: [
        { shape: 'square', color: 'blue', size: 'large', x: 61, y: 50 },
        { shape: 'circle', color: 'red', size: 'small', x: 17, y: 30 },
      ],
    };
    expect(synthConversation(scene, 'describe', 'en', 0).turns[1]!.content).toBe(
      'The image shows two shapes on a plain background. A small red circle is in the top left. A large blue square is in the center. In total: one circle and one square.',
    );
    expect(synthConversation(scene, 'describe', 'zh', 0).turns[1]!.content).toBe(
      '图中纯色背景上有两个图形。一个红色的小圆形在图片的左上方。一个蓝色的大正方形在图片的中央。一共是一个圆形和一个正方形。',
    );
    expect(
      synthConversation(scene, 'multi-turn', 'en', 0)
        .turns.map((t) => t.content)
        .slice(0, 4),
    ).toEqual([
      '<image>\nWhat is the leftmost object?',
      'The leftmost object is a red circle.',
      'What is to the right of the red circle?',
      'To the right of the red circle there is a blue square.',
    ]);
  });

  test('deduplication: a conversation already written for an image is dropped, whitespace aside', () => {
    const scene = scenes[3]!;
    const seen = new Set<string>();
    const options = { templates: ['count', 'color', 'count'] as SynthTemplate[], langs: ['en', 'zh'] as const, seed: 0 };
    const first = synthRecordsOf(scene, 'images/a.png', 'src', options, seen);
    expect(first.map((r) => `${r.provenance.template}/${r.provenance.lang}`)).toEqual(['count/en', 'count/zh', 'color/en', 'color/zh']);
    expect(synthRecordsOf(scene, 'images/a.png', 'src', options, seen)).toEqual([]);
    // the same conversation on another image is another sample
    expect(synthRecordsOf(scene, 'images/b.png', 'src', options, seen)).toHaveLength(4);
    const r = first[0]!;
    expect(dedupKey({ ...r, conversations: r.conversations.map((t) => ({ ...t, value: `  ${t.value.replace(' ', '\n ')} ` })) })).toBe(
      dedupKey(r),
    );
    expect(first[0]!.provenance).toEqual({ source: 'src', template: 'count', seed: 0, lang: 'en' });
  });

  test('written LLaVA JSON is byte-identical for a seed and changes with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-synth-'));
    try {
      const opts = {
        n: 4,
        domain: 'B' as const,
        lang: 'both' as const,
        imageSize: 32,
        templates: ['count', 'refusal', 'describe'] as SynthTemplate[],
      };
      const a = await writeShapesSynth(path.join(dir, 'a'), { ...opts, seed: 1 });
      const b = await writeShapesSynth(path.join(dir, 'b'), { ...opts, seed: 1 });
      const c = await writeShapesSynth(path.join(dir, 'c'), { ...opts, seed: 2 });
      const text = (f: string) => fs.readFileSync(f, 'utf8');
      expect(text(a.file)).toBe(text(b.file));
      expect(text(a.file)).not.toBe(text(c.file));
      expect(fs.readFileSync(path.join(dir, 'a/images/000003.png'))).toEqual(fs.readFileSync(path.join(dir, 'b/images/000003.png')));
      const records = JSON.parse(text(a.file)) as { id: string; image: string; provenance: { seed: number; template: string } }[];
      expect(records).toHaveLength(a.records);
      expect(a.records + a.duplicates).toBe(4 * 3 * 2);
      expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
      expect(records.every((r) => r.provenance.seed === 1 && fs.existsSync(path.join(dir, 'a', r.image)))).toBe(true);
      // one record per line inside the array: a validator can report line numbers
      expect(text(a.file).split('\n')).toHaveLength(records.length + 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown template is refused with the list of known ones', async () => {
    await expect(writeShapesSynth('/nonexistent', { templates: ['gossip' as SynthTemplate] })).rejects.toThrow(
      /unknown synthesis template "gossip"/,
    );
  });

  test('task instruction with templates yields in memory the conversations mmft data synth writes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-synth-'));
    try {
      const common = { n: 3, domain: 'B' as const, lang: 'both' as const, imageSize: 32, seed: 5 };
      const templates: SynthTemplate[] = ['multi-turn', 'count', 'refusal'];
      const written = await writeShapesSynth(dir, { ...common, templates });
      const records = JSON.parse(fs.readFileSync(written.file, 'utf8')) as {
        id: string;
        conversations: { from: string; value: string }[];
      }[];
      const dataset = await shapesDataset.open(shapesConfigSchema.parse({ ...common, task: 'instruction', templates }), { baseDir: dir });
      expect(dataset.size).toBe(3 * 3 * 2);
      const examples = [];
      for await (const example of dataset.iterate()) examples.push(example);
      expect(examples).toHaveLength(dataset.size!);
      // nothing was a duplicate here, so the in-memory stream and the file hold the same conversations in the same order
      expect(written.duplicates).toBe(0);
      expect(examples.map((e) => e.id)).toEqual(records.map((r) => r.id));
      for (const [i, example] of examples.entries()) {
        if (example.task !== 'instruction') throw new Error(`task ${example.task}`);
        expect(example.turns.map((t) => [t.role === 'user' ? 'human' : 'gpt', t.content])).toEqual(
          records[i]!.conversations.map((t) => [t.from, t.value]),
        );
        expect(example.image?.kind).toBe('bytes');
      }
      // resuming and sharding count the synthesised examples like any others
      const tail = [];
      for await (const example of dataset.iterate({ startAt: 7 })) tail.push(example.id);
      expect(tail).toEqual(examples.slice(7).map((e) => e.id));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('templates are refused outside task instruction, naming the field', () => {
    const parsed = shapesConfigSchema.safeParse({ task: 'vqa', templates: ['count'] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['templates']);
    expect(parsed.error?.issues[0]?.message).toMatch(/need task instruction with images, not task vqa/);
    expect(shapesConfigSchema.safeParse({ task: 'instruction', templates: ['gossip'] }).success).toBe(false);
  });
});
