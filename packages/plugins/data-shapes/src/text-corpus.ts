// The shapes world as text for language-model pretraining: per scene and language a caption, a
// question with its answer after the scene's description (BLIP-2's "Question: … Answer:" prompt
// from @mmft/text), and a two-question dialogue in LLaVA v1's "USER: … ASSISTANT: …" roles, the
// same dialogue also as a text-only instruction example. The held-out split is chosen by a hash of
// the text itself (as TFDS splits by hashed keys), so a train and an eval corpus share no text
// whatever their seeds and sizes.
import { createHash } from 'node:crypto';
import type { ConversationTurn, Dataset, InstructionExample, IterateOptions, TextExample } from '@mmft/core';
import { MmftError } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { DEFAULT_PROMPTS, renderTemplate } from '@mmft/text';
import { languagesOf, type ShapesConfig } from './config';
import { LANGUAGES } from './examples';
import { sampleQuestions } from './facts';
import { sampleScene, type Scene } from './scene';

/** Share of all texts that belong to the eval split: one hash bucket in EVAL_BUCKETS. */
export const EVAL_BUCKETS = 10;
const TEXT_SALT = 5;
/** The roles of @mmft/text's instruction prompt ("USER: … ASSISTANT:", "用户：… 助手："). */
const ROLE_LABELS = { en: { user: 'USER: ', assistant: ' ASSISTANT: ' }, zh: { user: '用户：', assistant: ' 助手：' } } as const;

export type TextKind = 'caption' | 'qa' | 'dialogue';

/** One unit of the corpus: its text, and for dialogues the turns that text renders. */
export interface CorpusUnit {
  readonly id: string;
  readonly lang: 'en' | 'zh';
  readonly kind: TextKind;
  readonly text: string;
  readonly turns?: readonly ConversationTurn[];
}

/** The split a text belongs to: decided by the text alone, so no text is ever in both. */
export function splitOfText(text: string): 'train' | 'eval' {
  return createHash('sha1').update(text).digest().readUInt32BE(0) % EVAL_BUCKETS === 0 ? 'eval' : 'train';
}

/** The dialogue as one text: turns on their own lines, each "USER: question ASSISTANT: answer". */
function dialogueText(turns: readonly ConversationTurn[], lang: 'en' | 'zh'): string {
  const labels = ROLE_LABELS[lang];
  const lines: string[] = [];
  for (let i = 0; i < turns.length; i += 2) lines.push(`${labels.user}${turns[i]!.content}${labels.assistant}${turns[i + 1]!.content}`);
  return lines.join('\n');
}

/** Every unit of one scene in one language, before splitting (caption, qa, dialogue). */
export function sceneUnits(scene: Scene, lang: 'en' | 'zh', idPrefix: string): CorpusUnit[] {
  const language = LANGUAGES[lang];
  // one seed for both languages: the English and Chinese texts of a scene translate each other
  const rng = new SeededRng(deriveSeed(scene.styleSeed, TEXT_SALT));
  const captions = language.captions(scene, rng);
  const caption = rng.pick(captions);
  // The left-to-right caption names every object's colour, shape and order, so each question
  // (colour, shape, count, position, existence) is answerable from the text alone.
  const context = language.orderCaption(scene);
  const [qa] = sampleQuestions(scene, rng, 1).map((spec) => language.question(spec));
  // "Answer: blue" but "答案：蓝色": no space after a full-width colon
  const prompt = renderTemplate(DEFAULT_PROMPTS.vqa[lang], { question: qa!.question });
  const qaText = `${context} ${prompt}${lang === 'zh' ? '' : ' '}${qa!.answer}`;
  const asked = sampleQuestions(scene, rng, 2).map((spec) => language.question(spec));
  const turns: ConversationTurn[] = asked.flatMap((q, i) => [
    { role: 'user' as const, content: i === 0 ? `${context}\n${q.question}` : q.question },
    { role: 'assistant' as const, content: q.sentence },
  ]);
  return [
    { id: `${idPrefix}-${lang}-caption`, lang, kind: 'caption', text: caption },
    { id: `${idPrefix}-${lang}-qa`, lang, kind: 'qa', text: qaText },
    { id: `${idPrefix}-${lang}-dialogue`, lang, kind: 'dialogue', text: dialogueText(turns, lang), turns },
  ];
}

/**
 * The corpus of `config` (scenes 0..n-1 of its seed and domain, its languages) restricted to
 * `config.split`, in scene order.
 *
 * @example
 * corpusUnits(shapesConfigSchema.parse({ task: 'text', n: 100, lang: 'both', split: 'eval' }));
 */
export function corpusUnits(config: ShapesConfig): CorpusUnit[] {
  const units: CorpusUnit[] = [];
  for (let index = 0; index < config.n; index++) {
    const scene = sampleScene(config.seed, index, config.domain, config.maxObjects);
    const prefix = `shapes-${config.domain}-text-${String(index).padStart(6, '0')}`;
    for (const lang of languagesOf(config.lang)) {
      for (const unit of sceneUnits(scene, lang, prefix)) if (splitOfText(unit.text) === config.split) units.push(unit);
    }
  }
  return units;
}

type CorpusExample = TextExample | InstructionExample;

/**
 * The shapes text corpus as a Dataset: `task: text` yields every unit as a text example,
 * `task: instruction` with `images: false` yields the dialogues as text-only conversations.
 * Texts are generated up front (no images: microseconds each), so size, shuffling, sharding
 * and resume work on the list.
 */
export class ShapesTextDataset implements Dataset<CorpusExample> {
  readonly task: 'text' | 'instruction';
  readonly size: number;
  private readonly examples: CorpusExample[];

  constructor(readonly config: ShapesConfig) {
    if (config.task !== 'text' && config.task !== 'instruction') {
      throw new MmftError('E_CONFIG', `the shapes text corpus yields task text or instruction, not ${config.task}`, {
        hint: 'set task: text (or task: instruction with images: false)',
      });
    }
    this.task = config.task;
    const units = corpusUnits(config);
    this.examples =
      config.task === 'text'
        ? units.map((u) => ({ id: u.id, task: 'text', text: u.text, lang: u.lang }))
        : units.filter((u) => u.turns).map((u) => ({ id: u.id, task: 'instruction', turns: u.turns!, lang: u.lang }));
    this.size = this.examples.length;
  }

  async *iterate(options: IterateOptions = {}): AsyncGenerator<CorpusExample> {
    const shard = options.shard ?? { index: 0, count: 1 };
    if (!Number.isInteger(shard.count) || shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
      throw new MmftError('E_CONFIG', `shard index ${shard.index} of ${shard.count} is out of range`, { hint: 'use 0 <= index < count' });
    }
    const indices = [...this.examples.keys()];
    const order = options.shuffle ? new SeededRng(deriveSeed(options.seed ?? 0, options.epoch ?? 0)).shuffle(indices) : indices;
    let inShard = 0;
    for (const [position, i] of order.entries()) {
      if (position % shard.count !== shard.index) continue;
      if (inShard++ < (options.startAt ?? 0)) continue;
      yield this.examples[i]!;
    }
  }
}
