// The Python string built-ins vqaEval.py's normalisation leans on, as each interpreter computes
// them: GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py is Python 2 code (it
// runs only under 2.7), LAVIS's copy (lavis/common/vqa_tools/vqa_eval.py) runs under Python 3.
// They differ on non-ASCII text only; test-fixtures/vqa_reference.py shows each difference.
import { python2Round, pythonRound } from './python-round';

/** One interpreter's answers to the questions vqaEval.py asks of a string. */
export interface PythonText {
  readonly version: 2 | 3;
  /** `commaStrip` "(\d)(\,)(\d)": a digit, a comma, a digit. */
  readonly digitComma: RegExp;
  /** `periodStrip` "(?!<=\d)(\.)(?!\d)" (global): a period not followed by a digit. */
  readonly periodStrip: RegExp;
  /** `str.strip()` of whitespace. */
  strip(text: string): string;
  /** `str.split()` with no argument: runs of whitespace, no empty words. */
  split(text: string): string[];
  /** `str.lower()`. */
  lower(text: string): string;
  /** `round(x, n)`. */
  round(x: number, digits: number): number;
}

/** `str.isspace()` of Python 3 (Unicode's White_Space minus a few, plus \x1c-\x1f), which JS `\s` is not. */
const PY3_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
// Python 2.7 reads Unicode 5.2, where U+180E MONGOLIAN VOWEL SEPARATOR was still a space (Zs).
const PY2_SPACE = `${PY3_SPACE}\\u180e`;

const splitter = (space: string): ((text: string) => string[]) => {
  const runs = new RegExp(`[${space}]+`);
  return (text) => text.split(runs).filter((word) => word !== '');
};
const stripper = (space: string): ((text: string) => string) => {
  const ends = new RegExp(`^[${space}]+|[${space}]+$`, 'g');
  return (text) => text.replace(ends, '');
};

const ASCII = /^[\x00-\x7f]*$/;
// Python 2's unicode.lower() maps each character on its own by UnicodeData's simple mapping: no
// final-sigma rule, and U+0130 (İ) becomes a plain "i" where full case mapping gives "i̇".
function python2Lower(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return out;
}

/**
 * Python 2.7 (variant `official`). Its `re` patterns are byte strings compiled without
 * re.UNICODE, so `\d` is [0-9] only.
 *
 * @example
 * PYTHON2.lower('ΟΔΟΣ'); // 'οδοσ' (Python 3: 'οδος')
 */
export const PYTHON2: PythonText = {
  version: 2,
  digitComma: /[0-9],[0-9]/,
  periodStrip: /\.(?![0-9])/g,
  strip: stripper(PY2_SPACE),
  split: splitter(PY2_SPACE),
  lower: python2Lower,
  round: python2Round,
};

/**
 * Python 3 (variant `lavis`): `\d` in a str pattern is any Unicode decimal digit, and str.lower()
 * uses full case mapping with the final-sigma rule, as JS toLowerCase does.
 *
 * @example
 * PYTHON3.digitComma.test('١,٢'); // true (Python 2: false)
 */
export const PYTHON3: PythonText = {
  version: 3,
  digitComma: /\p{Nd},\p{Nd}/u,
  periodStrip: /\.(?!\p{Nd})/gu,
  strip: stripper(PY3_SPACE),
  split: splitter(PY3_SPACE),
  lower: (text) => text.toLowerCase(),
  round: pythonRound,
};
