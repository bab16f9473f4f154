// Accuracy of one answer against the human answers (GT-Vision-Lab/VQA vqaEval.py `evaluate`):
// for each human answer left out in turn, min(#other humans who gave the prediction / 3, 1);
// the mean of those leave-one-out scores is the accuracy.
import { normalizeHumanAnswers, normalizePrediction } from './normalize';

/**
 * VQA accuracy of `prediction` in [0, 1].
 *
 * @example
 * vqaAccuracy('Two.', Array(10).fill('2')); // 1
 */
export function vqaAccuracy(prediction: string, humanAnswers: readonly string[]): number {
  const predicted = normalizePrediction(prediction);
  const answers = normalizeHumanAnswers(humanAnswers);
  const matches = answers.reduce((count, answer) => count + (answer === predicted ? 1 : 0), 0);
  let sum = 0;
  for (const answer of answers) {
    // Leaving out one answer removes one match only when that answer itself matched.
    const others = matches - (answer === predicted ? 1 : 0);
    sum += Math.min(1, others / 3);
  }
  return sum / answers.length;
}
