// The two readings of vqaEval.py that circulate, by the config's `variant`:
// - official: GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py as of commit
//   a013f00 ("Fixed processing answers bug"), run under Python 2.7 as that file requires;
// - lavis: the older rules that salesforce/LAVIS lavis/common/vqa_tools/vqa_eval.py copies,
//   under Python 3.
// Each says which strings `evaluate` finally compares for one question; accuracy.ts scores them.
import { cleanAnswer, normalizeAnswer, processPunctuation } from './normalize';
import { PYTHON2, PYTHON3, type PythonText } from './python-text';

export const VQA_VARIANT_NAMES = ['official', 'lavis'] as const;
export type VqaVariantName = (typeof VQA_VARIANT_NAMES)[number];

/** The prediction and human answers of one question, as a variant compares them. */
export interface Compared {
  readonly prediction: string;
  readonly answers: readonly string[];
}

/** One variant of the evaluation. */
export interface VqaVariant {
  readonly name: VqaVariantName;
  /** The upstream file it follows, by repository path. */
  readonly reference: string;
  readonly python: PythonText;
  compared(prediction: string, answers: readonly string[]): Compared;
  /** Python's round() of the interpreter the reference runs under. */
  round(x: number, digits: number): number;
}

// VQA answers repeat a lot ("yes", "2"): each function normalises a distinct string once.
const CACHE_LIMIT = 1 << 20;
function memo(fn: (text: string) => string): (text: string) => string {
  const cache = new Map<string, string>();
  return (text) => {
    let out = cache.get(text);
    if (out === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      out = fn(text);
      cache.set(text, out);
    }
    return out;
  };
}

const allSame = (answers: readonly string[]): boolean => answers.every((answer) => answer === answers[0]);

const officialClean = memo((text) => cleanAnswer(text, PYTHON2));
const officialNormalize = memo((text) => normalizeAnswer(text, PYTHON2));

/**
 * a013f00: every human answer and the prediction are cleaned (newlines/tabs, strip); then, only
 * when the cleaned human answers are not all identical, all of them and the prediction go
 * through processPunctuation and processDigitArticle. When the ten humans agree nothing is
 * normalised, so "Yes" or "yes." against ten "yes" scores 0.
 */
const official: VqaVariant = {
  name: 'official',
  reference: 'GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py (a013f00, Python 2.7)',
  python: PYTHON2,
  compared(prediction, answers) {
    const cleaned = answers.map(officialClean);
    if (allSame(cleaned)) return { prediction: officialClean(prediction), answers: cleaned };
    return { prediction: officialNormalize(officialClean(prediction)), answers: cleaned.map(officialNormalize) };
  },
  round: PYTHON2.round,
};

const lavisPrediction = memo((text) => normalizeAnswer(cleanAnswer(text, PYTHON3), PYTHON3));
const lavisPunctuation = memo((text) => processPunctuation(text, PYTHON3));

/**
 * Before a013f00 (and in LAVIS): the prediction is always cleaned and normalised; the human
 * answers are never cleaned, and only when they are not all identical does each go through
 * processPunctuation alone (never lower-cased, never processDigitArticle).
 */
const lavis: VqaVariant = {
  name: 'lavis',
  reference: 'salesforce/LAVIS lavis/common/vqa_tools/vqa_eval.py (Python 3)',
  python: PYTHON3,
  compared(prediction, answers) {
    return { prediction: lavisPrediction(prediction), answers: allSame(answers) ? answers : answers.map(lavisPunctuation) };
  },
  round: PYTHON3.round,
};

/**
 * The variants by name.
 *
 * @example
 * VQA_VARIANTS.official.compared('Yes', Array(10).fill('yes')).prediction; // 'Yes'
 * VQA_VARIANTS.lavis.compared('Yes', Array(10).fill('yes')).prediction; // 'yes'
 */
export const VQA_VARIANTS: Readonly<Record<VqaVariantName, VqaVariant>> = { official, lavis };
