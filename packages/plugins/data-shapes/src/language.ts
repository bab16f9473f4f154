// The interface each language implements: how a scene, a question and an answer are worded.
// Tasks decide what to say (facts.ts); a Language decides how (english.ts, chinese.ts).
import type { SeededRng } from '@mmft/image';
import type { QuestionSpec } from './facts';
import type { Scene } from './scene';

export interface WordedQuestion {
  readonly question: string;
  /** Short answer, VQA style ("red", "2", "yes"). */
  readonly answer: string;
  /** A full-sentence answer for dialogues. */
  readonly sentence: string;
}

export interface Language {
  readonly lang: 'en' | 'zh';
  /** Several phrasings of a caption (COCO has five per image); the first lists every object. */
  captions(scene: Scene, rng: SeededRng): string[];
  /** The left-to-right caption, the one hard negatives are worded with. */
  orderCaption(scene: Scene): string;
  question(spec: QuestionSpec): WordedQuestion;
  /** An instruction asking to describe the image. */
  describeRequest(rng: SeededRng): string;
}
