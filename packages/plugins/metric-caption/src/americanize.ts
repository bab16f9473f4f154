// British → American respelling that Stanford CoreNLP's PTBTokenizer applies to word tokens
// before pycocoevalcap lower-cases them ("colour" → "color"). Rules and word table follow
// stanfordnlp/CoreNLP src/edu/stanford/nlp/process/Americanize.java (the 3.x behaviour).

/** Words shorter than this are never changed (Americanize.MINIMUM_LENGTH_CHANGED). */
const MIN_LENGTH_CHANGED = 4;
/** Words shorter than this never match a pattern (Americanize.MINIMUM_LENGTH_PATTERN_MATCH). */
const MIN_LENGTH_PATTERN = 6;

// British spelling → American spelling, as pairs "british:american".
const TABLE = `anaesthetic:anesthetic analogue:analog analogues:analogs analyse:analyze analysed:analyzed
analysing:analyzing armoured:armored cancelled:canceled cancelling:canceling candour:candor
capitalise:capitalize capitalised:capitalized capitalisation:capitalization centre:center chimaeric:chimeric
clamour:clamor coloured:colored colouring:coloring colourful:colorful defence:defense Defence:Defense
discolour:discolor discolours:discolors discoloured:discolored discolouring:discoloring
encyclopaedia:encyclopedia endeavour:endeavor endeavours:endeavors endeavoured:endeavored
endeavouring:endeavoring fervour:fervor favour:favor favours:favors favoured:favored favouring:favoring
favourite:favorite favourites:favorites fibre:fiber fibres:fibers finalise:finalize finalised:finalized
finalising:finalizing flavour:flavor flavours:flavors flavoured:flavored flavouring:flavoring glamour:glamour
grey:gray harbour:harbor harbours:harbors homologue:homolog homologues:homologs honour:honor honours:honors
honoured:honored honouring:honoring honourable:honorable humour:humor humours:humors humoured:humored
humouring:humoring kerb:curb labelled:labeled labelling:labeling labour:labor Labour:Labor labours:labors
laboured:labored labouring:laboring leant:leaned learnt:learned localise:localize localised:localized
manoeuvre:maneuver manoeuvres:maneuvers maximise:maximize maximised:maximized maximising:maximizing
meagre:meager minimise:minimize minimised:minimized minimising:minimizing modernise:modernize
modernised:modernized modernising:modernizing misdemeanour:misdemeanor misdemeanours:misdemeanors
neighbour:neighbor neighbours:neighbors neighbourhood:neighborhood neighbourhoods:neighborhoods
oestrogen:estrogen oestrogens:estrogens organisation:organization organisations:organizations
penalise:penalize penalised:penalized popularise:popularize popularised:popularized popularises:popularizes
popularising:popularizing practise:practice practised:practiced pressurise:pressurize pressurised:pressurized
pressurises:pressurizes pressurising:pressurizing realise:realize realised:realized realising:realizing
realises:realizes recognise:recognize recognised:recognized recognising:recognizing recognises:recognizes
rumoured:rumored rumouring:rumoring savour:savor savours:savors savoured:savored savouring:savoring
splendour:splendor splendours:splendors theatre:theater theatres:theaters titre:titer titres:titers
travelled:traveled travelling:traveling`;

const MAPPING: ReadonlyMap<string, string> = new Map(TABLE.split(/\s+/).map((pair) => pair.split(':') as [string, string]));

// Month and day names are capitalised by CoreNLP; pycocoevalcap lower-cases them again, so the
// timex table has no effect on its output and is left out on purpose.

const OUR_EXCEPTIONS =
  /abatjour|beflour|bonjour|calambour|carrefour|cornflour|contour|de[tv]our|dortour|dyvour|downpour|giaour|glamour|holour|inpour|outpour|pandour|paramour|pompadour|recontour|repour|ryeflour|sompnour|tambour|troubadour|tregetour|velour/;

// Ordered patterns; the first that matches (and is not excepted) rewrites every occurrence.
const PATTERNS: ReadonlyArray<{ pattern: RegExp; replace: string; except?: RegExp }> = [
  { pattern: /haem(at)?o/g, replace: 'hem$1o' },
  { pattern: /aemia$/g, replace: 'emia' },
  { pattern: /([lL])eukaem/g, replace: '$1eukem' },
  { pattern: /programme(s?)$/g, replace: 'program$1' },
  { pattern: /^([a-z]{3,})our(s?)$/g, replace: '$1or$2', except: OUR_EXCEPTIONS },
];

/**
 * Americanize one token the way CoreNLP does (case-sensitive, before lower-casing).
 *
 * @example
 * americanize('colour'); // 'color'
 * americanize('Colour'); // 'Colour' (patterns only match lowercase words)
 */
export function americanize(word: string): string {
  if (word.length < MIN_LENGTH_CHANGED) return word;
  const mapped = MAPPING.get(word);
  if (mapped !== undefined) return mapped;
  if (word.length < MIN_LENGTH_PATTERN) return word;
  for (const { pattern, replace, except } of PATTERNS) {
    pattern.lastIndex = 0;
    if (!pattern.test(word)) continue;
    if (except?.test(word)) continue;
    // `$1` of an unmatched optional group is '' in JS, as Java's Matcher.replaceAll gives for it.
    return word.replace(pattern, replace);
  }
  return word;
}
