// Accuracy of one answer against the human answers (GT-Vision-Lab/VQA vqaEval.py `evaluate`):
// for each human answer left out in turn, min(#other humans who gave the prediction / 3, 1);
// the mean of those leave-one-out scores is the accuracy. The variant decides which strings are
// compared (variants.ts); the scoring is the same in both.
import { VQA_VARIANTS, type VqaVariantName } from './variants';

/**
 * VQA accuracy of `prediction` in [0, 1], by the official evaluation unless `variant` says
 * otherwise.
 *
 * @example
 * vqaAccuracy('two', [...Array(7).fill('2'), '3', '3', '3']); // 1
 * vqaAccuracy('Two.', Array(10).fill('2')); // 0: ten agreeing humans mean no normalisation
 * vqaAccuracy('Two.', Array(10).fill('2'), 'lavis'); // 1
 */
export function vqaAccuracy(prediction: string, humanAnswers: readonly string[], variant: VqaVariantName = 'official'): number {
  const { prediction: predicted, answers } = VQA_VARIANTS[variant].compared(prediction, humanAnswers);
  const matches = answers.reduce((count, answer) => count + (answer === predicted ? 1 : 0), 0);
  let sum = 0;
  // vqaEval.py leaves out one answer record at a time (VQA v2's answer ids are unique), so
  // leaving one out removes a match only when that answer itself matched.
  for (const answer of answers) {
    const others = matches - (answer === predicted ? 1 : 0);
    sum += Math.min(1, others / 3);
  }
  return sum / answers.length;
}
