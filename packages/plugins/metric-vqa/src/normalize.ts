// Answer normalisation of the VQA evaluation (GT-Vision-Lab/VQA
// PythonEvaluationTools/vqaEvaluation/vqaEval.py): `processPunctuation` and
// `processDigitArticle`, with its tables, regexes and quirks reproduced on purpose, under the
// Python 2 or Python 3 reading of its string built-ins (python-text.ts). When each is applied is
// the variant's business (variants.ts).
import { PYTHON2, type PythonText } from './python-text';

// vqaEval.py `contractions`, as "key=value" pairs (keys with capitals never match after its
// lower-casing; kept as in the reference).
const CONTRACTIONS_TABLE = `
aint=ain't arent=aren't cant=can't couldve=could've couldnt=couldn't couldn'tve=couldn't've
couldnt've=couldn't've didnt=didn't doesnt=doesn't dont=don't hadnt=hadn't hadnt've=hadn't've
hadn'tve=hadn't've hasnt=hasn't havent=haven't hed=he'd hed've=he'd've he'dve=he'd've hes=he's
howd=how'd howll=how'll hows=how's Id've=I'd've I'dve=I'd've Im=I'm Ive=I've isnt=isn't itd=it'd
itd've=it'd've it'dve=it'd've itll=it'll let's=let's maam=ma'am mightnt=mightn't
mightnt've=mightn't've mightn'tve=mightn't've mightve=might've mustnt=mustn't mustve=must've
neednt=needn't notve=not've oclock=o'clock oughtnt=oughtn't ow's'at='ow's'at 'ows'at='ow's'at
'ow'sat='ow's'at shant=shan't shed've=she'd've she'dve=she'd've she's=she's shouldve=should've
shouldnt=shouldn't shouldnt've=shouldn't've shouldn'tve=shouldn't've somebody'd=somebodyd
somebodyd've=somebody'd've somebody'dve=somebody'd've somebodyll=somebody'll somebodys=somebody's
someoned=someone'd someoned've=someone'd've someone'dve=someone'd've someonell=someone'll
someones=someone's somethingd=something'd somethingd've=something'd've something'dve=something'd've
somethingll=something'll thats=that's thered=there'd thered've=there'd've there'dve=there'd've
therere=there're theres=there's theyd=they'd theyd've=they'd've they'dve=they'd've theyll=they'll
theyre=they're theyve=they've twas='twas wasnt=wasn't wed've=we'd've we'dve=we'd've weve=we've
werent=weren't whatll=what'll whatre=what're whats=what's whatve=what've whens=when's whered=where'd
wheres=where's whereve=where've whod=who'd whod've=who'd've who'dve=who'd've wholl=who'll whos=who's
whove=who've whyll=why'll whyre=why're whys=why's wont=won't wouldve=would've wouldnt=wouldn't
wouldnt've=wouldn't've wouldn'tve=wouldn't've yall=y'all yall'll=y'all'll y'allll=y'all'll
yall'd've=y'all'd've y'alld've=y'all'd've y'all'dve=y'all'd've youd=you'd youd've=you'd've
you'dve=you'd've youll=you'll youre=you're youve=you've
`;
const CONTRACTIONS: ReadonlyMap<string, string> = new Map(
  CONTRACTIONS_TABLE.trim()
    .split(/\s+/)
    .map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
    }),
);

/** vqaEval.py `manualMap`: number words to digits ("none" counts as zero). */
const MANUAL_MAP: ReadonlyMap<string, string> = new Map([
  ['none', '0'],
  ['zero', '0'],
  ['one', '1'],
  ['two', '2'],
  ['three', '3'],
  ['four', '4'],
  ['five', '5'],
  ['six', '6'],
  ['seven', '7'],
  ['eight', '8'],
  ['nine', '9'],
  ['ten', '10'],
]);
const ARTICLES: ReadonlySet<string> = new Set(['a', 'an', 'the']);
/** vqaEval.py `punct`, in its order (the order matters: each replacement sees the previous ones). */
const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];

/** Any character processPunctuation can change (the marks of PUNCT, and '.'). */
const ANY_MARK = /[;/[\]"{}()=+\\_\-><@`,?!.]/;
// vqaEval.py calls `periodStrip.sub("", outText, re.UNICODE)`: the third positional argument of
// `sub` is `count`, and re.UNICODE == 32 (in Python 2 and 3), so at most 32 periods are removed.
const PERIOD_STRIP_COUNT = 32;

/**
 * vqaEval.py `processPunctuation`: each listed mark is deleted when it touches a space somewhere in
 * the answer (or the answer has a digit,digit), else replaced by a space; then periods not
 * followed by a digit go (its `periodStrip` look-behind is written as a look-ahead and never fires).
 *
 * @example
 * processPunctuation('x-ray'); // 'x ray'
 * processPunctuation('1,000'); // '1000'
 */
export function processPunctuation(inText: string, python: PythonText = PYTHON2): string {
  // Most answers ("yes", "2", "red") hold no mark at all: nothing to replace.
  if (!ANY_MARK.test(inText)) return inText;
  let outText = inText;
  const hasDigitComma = python.digitComma.test(inText);
  for (const p of PUNCT) {
    if (!outText.includes(p)) continue; // replacing an absent mark changes nothing
    const remove = inText.includes(`${p} `) || inText.includes(` ${p}`) || hasDigitComma;
    outText = outText.split(p).join(remove ? '' : ' ');
  }
  let removed = 0;
  return outText.replace(python.periodStrip, (dot) => (removed++ < PERIOD_STRIP_COUNT ? '' : dot));
}

/**
 * vqaEval.py `processDigitArticle`: lower-case, number words to digits, drop articles, restore
 * apostrophes of contractions.
 *
 * @example
 * processDigitArticle('A Dog'); // 'dog'
 * processDigitArticle('dont'); // "don't"
 */
export function processDigitArticle(inText: string, python: PythonText = PYTHON2): string {
  const words: string[] = [];
  for (const raw of python.split(python.lower(inText))) {
    const word = MANUAL_MAP.get(raw) ?? raw;
    if (!ARTICLES.has(word)) words.push(word);
  }
  return words.map((word) => CONTRACTIONS.get(word) ?? word).join(' ');
}

/**
 * What vqaEval.py does to every answer before anything else: newlines and tabs to spaces, strip.
 *
 * @example
 * cleanAnswer(' yes\t'); // 'yes'
 */
export function cleanAnswer(answer: string, python: PythonText = PYTHON2): string {
  return python.strip(answer.replace(/\n/g, ' ').replace(/\t/g, ' '));
}

/**
 * An answer through processPunctuation then processDigitArticle.
 *
 * @example
 * normalizeAnswer('Two.'); // '2'
 */
export function normalizeAnswer(answer: string, python: PythonText = PYTHON2): string {
  return processDigitArticle(processPunctuation(answer, python), python);
}
