// Answer normalisation of the official VQA evaluation (GT-Vision-Lab/VQA
// PythonEvaluationTools/vqaEvaluation/vqaEval.py): `processPunctuation` and
// `processDigitArticle`, with its tables, regexes and quirks reproduced on purpose.

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
  CONTRACTIONS_TABLE.trim().split(/\s+/).map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
  }),
);

/** vqaEval.py `manualMap`: number words to digits ("none" counts as zero). */
const MANUAL_MAP: ReadonlyMap<string, string> = new Map([
  ['none', '0'], ['zero', '0'], ['one', '1'], ['two', '2'], ['three', '3'], ['four', '4'],
  ['five', '5'], ['six', '6'], ['seven', '7'], ['eight', '8'], ['nine', '9'], ['ten', '10'],
]);
const ARTICLES: ReadonlySet<string> = new Set(['a', 'an', 'the']);
/** vqaEval.py `punct`, in its order (the order matters: each replacement sees the previous ones). */
const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];

/** Any character processPunctuation can change (the marks of PUNCT, and '.'). */
const ANY_MARK = /[;/[\]"{}()=+\\_\-><@`,?!.]/;
// `commaStrip` "(\d)(\,)(\d)": Python 3 `\d` is any Unicode decimal digit.
const COMMA_STRIP = /\p{Nd},\p{Nd}/u;
// `periodStrip` "(?!<=\d)(\.)(?!\d)": its first group is a look-AHEAD for "<=digit" (meant as a
// look-behind), which never matches at a '.', so it removes every '.' not followed by a digit.
const PERIOD_STRIP = /\.(?!\p{Nd})/gu;
// vqaEval.py calls `periodStrip.sub("", outText, re.UNICODE)`: the third positional argument of
// `sub` is `count`, and re.UNICODE == 32, so at most 32 periods are removed.
const PERIOD_STRIP_COUNT = 32;
/** Python's `str.split()` / `str.strip()` whitespace (str.isspace), which differs from JS `\s`. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPLIT = new RegExp(`[${PY_SPACE}]+`);
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/**
 * vqaEval.py `processPunctuation`: each listed mark is deleted when it touches a space somewhere in
 * the answer (or the answer has a digit,digit), else replaced by a space; then periods go.
 *
 * @example
 * processPunctuation('x-ray'); // 'x ray'
 * processPunctuation('1,000'); // '1000'
 */
export function processPunctuation(inText: string): string {
  // Most answers ("yes", "2", "red") hold no mark at all: nothing to replace.
  if (!ANY_MARK.test(inText)) return inText;
  let outText = inText;
  const hasDigitComma = COMMA_STRIP.test(inText);
  for (const p of PUNCT) {
    if (!outText.includes(p)) continue; // replacing an absent mark changes nothing
    const remove = inText.includes(`${p} `) || inText.includes(` ${p}`) || hasDigitComma;
    outText = outText.split(p).join(remove ? '' : ' ');
  }
  let removed = 0;
  return outText.replace(PERIOD_STRIP, (dot) => (removed++ < PERIOD_STRIP_COUNT ? '' : dot));
}

/**
 * vqaEval.py `processDigitArticle`: lower-case, number words to digits, drop articles, restore
 * apostrophes of contractions.
 *
 * @example
 * processDigitArticle('A Dog'); // 'dog'
 * processDigitArticle('dont'); // "don't"
 */
export function processDigitArticle(inText: string): string {
  const words: string[] = [];
  for (const raw of inText.toLowerCase().split(PY_SPLIT)) {
    if (raw === '') continue; // Python's split() yields no empty strings
    const word = MANUAL_MAP.get(raw) ?? raw;
    if (!ARTICLES.has(word)) words.push(word);
  }
  return words.map((word) => CONTRACTIONS.get(word) ?? word).join(' ');
}

/**
 * A prediction as vqaEval.py `evaluate` normalises it: newlines/tabs to spaces, strip,
 * processPunctuation, processDigitArticle.
 *
 * @example
 * normalizePrediction('Two.'); // '2'
 */
export function normalizePrediction(answer: string): string {
  // VQA answers repeat a lot ("yes", "2"): normalise each distinct string once.
  let normalized = predictionCache.get(answer);
  if (normalized === undefined) {
    if (predictionCache.size >= CACHE_LIMIT) predictionCache.clear();
    normalized = normalizeUncached(answer);
    predictionCache.set(answer, normalized);
  }
  return normalized;
}

const CACHE_LIMIT = 1 << 20;
const predictionCache = new Map<string, string>();
const punctuationCache = new Map<string, string>();

function normalizeUncached(answer: string): string {
  const cleaned = answer.replace(/\n/g, ' ').replace(/\t/g, ' ').replace(PY_STRIP, '');
  return processDigitArticle(processPunctuation(cleaned));
}

/**
 * The human answers as vqaEval.py uses them: only when they are not all identical, each goes
 * through processPunctuation (never processDigitArticle, never lower-casing).
 *
 * @example
 * normalizeHumanAnswers(['yes', 'yes!']); // ['yes', 'yes ']
 */
export function normalizeHumanAnswers(answers: readonly string[]): string[] {
  for (let i = 1; i < answers.length; i++) {
    if (answers[i] !== answers[0]) return answers.map(cachedPunctuation);
  }
  return [...answers];
}

function cachedPunctuation(answer: string): string {
  let processed = punctuationCache.get(answer);
  if (processed === undefined) {
    if (punctuationCache.size >= CACHE_LIMIT) punctuationCache.clear();
    processed = processPunctuation(answer);
    punctuationCache.set(answer, processed);
  }
  return processed;
}
