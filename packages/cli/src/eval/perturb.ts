// The perturbations of `mmft eval recipe --perturb`: image ones (blur, noise, crop; pixels in
// @mmft/image's perturb.ts) and a paraphrased question, by a small rule table in English and
// Chinese applied to VQA questions and to the last user turn of instructions. A record no rule
// matches is kept as it is and counted as unchanged, so the report can say how many were reworded
// (docs/metrics.md, "Slices and robustness").
import { MmftError, type Example } from '@mmft/core';
import { perturbImage, type ImagePerturbation } from '@mmft/image';

export type Perturbation = ImagePerturbation | { readonly kind: 'paraphrase' };

/** Default strengths: mild enough that a person still answers the question the same way. */
export const DEFAULT_STRENGTH = { blur: 1.5, noise: 0.1, crop: 0.8 } as const;

/** "blur:1.5" / "noise" / "paraphrase" → its name as reports show it. */
export const perturbationLabel = (p: Perturbation): string =>
  p.kind === 'paraphrase' ? 'paraphrase' : `${p.kind}:${p.kind === 'blur' ? p.sigma : p.kind === 'noise' ? p.std : p.fraction}`;

/**
 * Parses `--perturb blur,noise:0.2,crop:0.7,paraphrase` (a strength after ":"; defaults in DEFAULT_STRENGTH).
 *
 * @example
 * parsePerturbations('blur:2,paraphrase'); // [{ kind: 'blur', sigma: 2 }, { kind: 'paraphrase' }]
 */
export function parsePerturbations(spec: string): Perturbation[] {
  const out: Perturbation[] = [];
  for (const raw of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, value, extra] = raw.split(':');
    const strength = value === undefined ? undefined : Number(value);
    const bad = (why: string) =>
      new MmftError('E_INPUT', `--perturb ${raw}: ${why}`, {
        hint: 'give a comma-separated list of blur[:sigma px], noise[:std 0–1], crop[:kept fraction 0–1], paraphrase; e.g. --perturb blur:1.5,noise:0.1,crop:0.8,paraphrase',
      });
    if (extra !== undefined || (value !== undefined && !Number.isFinite(strength))) throw bad('the strength after ":" is not a number');
    let p: Perturbation;
    if (name === 'blur') p = { kind: 'blur', sigma: strength ?? DEFAULT_STRENGTH.blur };
    else if (name === 'noise') p = { kind: 'noise', std: strength ?? DEFAULT_STRENGTH.noise };
    else if (name === 'crop') p = { kind: 'crop', fraction: strength ?? DEFAULT_STRENGTH.crop };
    else if (name === 'paraphrase') {
      if (value !== undefined) throw bad('paraphrase takes no strength');
      p = { kind: 'paraphrase' };
    } else throw bad(`unknown perturbation "${name}"`);
    if (p.kind === 'blur' && !(p.sigma > 0)) throw bad('blur sigma must be > 0');
    if (p.kind === 'noise' && !(p.std > 0 && p.std <= 1)) throw bad('noise std must be in (0, 1]');
    if (p.kind === 'crop' && !(p.fraction > 0 && p.fraction < 1)) throw bad('crop fraction must be in (0, 1)');
    if (out.some((q) => perturbationLabel(q) === perturbationLabel(p))) throw bad('listed twice');
    out.push(p);
  }
  if (out.length === 0) throw new MmftError('E_INPUT', '--perturb is empty', { hint: 'e.g. --perturb blur,noise,crop,paraphrase' });
  return out;
}

/** One rewrite: a whole-question pattern and its replacement ($1… as in String.replace). */
export interface ParaphraseRule {
  readonly lang: 'en' | 'zh';
  readonly pattern: RegExp;
  readonly replacement: string;
}

// The rules word the same question another way without changing its answer. They cover the
// question forms of the shapes data (packages/plugins/data-shapes/src/english.ts, chinese.ts) and
// the common VQA v2 openings; each English pair is written both ways, so a question in either form
// is reworded. First match wins; matching is case-insensitive for English.
export const PARAPHRASE_RULES: readonly ParaphraseRule[] = [
  { lang: 'en', pattern: /^what colou?r is (.+)\?$/i, replacement: 'Which colour is $1?' },
  { lang: 'en', pattern: /^which colou?r is (.+)\?$/i, replacement: 'What color is $1?' },
  { lang: 'en', pattern: /^what shape is (.+)\?$/i, replacement: 'Which shape is $1?' },
  { lang: 'en', pattern: /^which shape is (.+)\?$/i, replacement: 'What shape is $1?' },
  { lang: 'en', pattern: /^how many (.+) are there\?$/i, replacement: 'What is the number of $1?' },
  { lang: 'en', pattern: /^what is the number of (.+)\?$/i, replacement: 'How many $1 are there?' },
  { lang: 'en', pattern: /^is there (an?) (.+)\?$/i, replacement: 'Does the image contain $1 $2?' },
  { lang: 'en', pattern: /^does the image contain (an?) (.+)\?$/i, replacement: 'Is there $1 $2?' },
  { lang: 'en', pattern: /^is (.+) to the left or to the right of (.+)\?$/i, replacement: 'Is $1 on the left or on the right of $2?' },
  { lang: 'en', pattern: /^describe this image\.$/i, replacement: 'Describe this picture.' },
  { lang: 'en', pattern: /^what do you see in this picture\?$/i, replacement: 'What can you see in this image?' },
  { lang: 'zh', pattern: /^(.+)是什么颜色的？$/, replacement: '$1的颜色是什么？' },
  { lang: 'zh', pattern: /^(.+)的颜色是什么？$/, replacement: '$1是什么颜色的？' },
  { lang: 'zh', pattern: /^(.+)是什么形状？$/, replacement: '$1的形状是什么？' },
  { lang: 'zh', pattern: /^图中一共有几个物体？$/, replacement: '这张图里一共有多少个物体？' },
  { lang: 'zh', pattern: /^图中有几个(.+)？$/, replacement: '这张图里有多少个$1？' },
  { lang: 'zh', pattern: /^这张图里有多少个(.+)？$/, replacement: '图中有几个$1？' },
  { lang: 'zh', pattern: /^图中有(.+)吗？$/, replacement: '这张图里有没有$1？' },
  { lang: 'zh', pattern: /^(.+)在(.+)的左边还是右边？$/, replacement: '$1位于$2的左侧还是右侧？' },
  { lang: 'zh', pattern: /^描述这张图片。$/, replacement: '请描述这张图。' },
  { lang: 'zh', pattern: /^你在这张图片里看到了什么？$/, replacement: '这张图里有什么？' },
];

/**
 * The question reworded by the first matching rule, or undefined when none applies. Surrounding
 * whitespace is kept outside the match; `lang` (when known) limits the rules to that language.
 *
 * @example
 * paraphrase('What color is the circle?'); // 'Which colour is the circle?'
 * paraphrase('图中有几个圆形？'); // '这张图里有多少个圆形？'
 */
export function paraphrase(question: string, lang?: string): string | undefined {
  const text = question.trim();
  const base = lang?.toLowerCase().split(/[-_]/)[0];
  for (const rule of PARAPHRASE_RULES) {
    if (base && (base === 'en' || base === 'zh') && rule.lang !== base) continue;
    if (rule.pattern.test(text)) return question.replace(text, text.replace(rule.pattern, rule.replacement));
  }
  return undefined;
}

/** The example with its question reworded (VQA: the question; instruction: the text of the last user turn after any `<image>` mark). */
export function paraphraseExample(example: Example): Example | undefined {
  if (example.task === 'vqa') {
    const question = paraphrase(example.question, example.lang);
    return question === undefined ? undefined : { ...example, question };
  }
  if (example.task === 'instruction') {
    const last = example.turns.map((t) => t.role).lastIndexOf('user');
    if (last < 0) return undefined;
    const content = example.turns[last]!.content;
    const mark = /^((?:\s*<image>\s*)*)([\s\S]*)$/.exec(content)!;
    const reworded = paraphrase(mark[2]!, example.lang);
    if (reworded === undefined) return undefined;
    const turns = example.turns.map((t, i) => (i === last ? { ...t, content: `${mark[1]}${reworded}` } : t));
    return { ...example, turns };
  }
  return undefined;
}

/** The perturbed examples, and the ids left as they were (no rule, or no image). */
export interface Perturbed {
  readonly examples: Example[];
  readonly unchanged: string[];
}

/**
 * Applies one perturbation to every example. Image perturbations decode each distinct image once
 * (examples of one image share it) and seed the noise by `seed` and the image; examples without an
 * image are unchanged. Paraphrase rewords questions (paraphraseExample).
 *
 * @example
 * const { examples, unchanged } = await perturbExamples(clean, { kind: 'blur', sigma: 1.5 }, 0);
 */
export async function perturbExamples(examples: readonly Example[], p: Perturbation, seed: number): Promise<Perturbed> {
  const unchanged: string[] = [];
  if (p.kind === 'paraphrase') {
    const out = examples.map((e) => {
      const changed = paraphraseExample(e);
      if (!changed) unchanged.push(e.id);
      return changed ?? e;
    });
    return { examples: out, unchanged };
  }
  const cache = new Map<string, Promise<Awaited<ReturnType<typeof perturbImage>>>>();
  const out: Example[] = [];
  for (const e of examples) {
    if (!e.image) {
      unchanged.push(e.id);
      out.push(e);
      continue;
    }
    const key = e.image.kind === 'file' ? `file:${e.image.path}` : `bytes:${e.image.key}`;
    let image = cache.get(key);
    if (!image) cache.set(key, (image = perturbImage(e.image, p, seed)));
    out.push({ ...e, image: await image } as Example);
  }
  return { examples: out, unchanged };
}
