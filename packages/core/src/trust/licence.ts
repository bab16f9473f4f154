// Licences of datasets and models. Ids are the ones a Hugging Face card's `license` field takes
// (huggingface/hub-docs docs/hub/repositories-licenses.md, the "License identifier" column), which
// are lowercase SPDX ids for the common licences; any other SPDX id is accepted too (lowercased), and
// `other` means "see the LICENSE file". mmft cannot judge legal compatibility: the user lists the
// pairs their policy forbids (recipe `trust.incompatible_licenses`) and mmft warns when one training
// mixture holds both.

/** Licence ids the Hub lists (huggingface/hub-docs docs/hub/repositories-licenses.md). */
export const HF_LICENSE_IDS: readonly string[] = [
  'apache-2.0',
  'mit',
  'openrail',
  'bigscience-openrail-m',
  'creativeml-openrail-m',
  'bigscience-bloom-rail-1.0',
  'bigcode-openrail-m',
  'afl-3.0',
  'artistic-2.0',
  'bsl-1.0',
  'bsd',
  'bsd-2-clause',
  'bsd-3-clause',
  'bsd-3-clause-clear',
  'c-uda',
  'cc',
  'cc0-1.0',
  'cc-by-2.0',
  'cc-by-2.5',
  'cc-by-3.0',
  'cc-by-4.0',
  'cc-by-sa-3.0',
  'cc-by-sa-4.0',
  'cc-by-nc-2.0',
  'cc-by-nc-3.0',
  'cc-by-nc-4.0',
  'cc-by-nd-4.0',
  'cc-by-nc-nd-3.0',
  'cc-by-nc-nd-4.0',
  'cc-by-nc-sa-2.0',
  'cc-by-nc-sa-3.0',
  'cc-by-nc-sa-4.0',
  'cdla-sharing-1.0',
  'cdla-permissive-1.0',
  'cdla-permissive-2.0',
  'wtfpl',
  'ecl-2.0',
  'epl-1.0',
  'epl-2.0',
  'etalab-2.0',
  'eupl-1.1',
  'agpl-3.0',
  'gfdl',
  'gpl',
  'gpl-2.0',
  'gpl-3.0',
  'lgpl',
  'lgpl-2.1',
  'lgpl-3.0',
  'isc',
  'lppl-1.3c',
  'ms-pl',
  'mpl-2.0',
  'odc-by',
  'odbl',
  'openrail++',
  'osl-3.0',
  'postgresql',
  'ofl-1.1',
  'ncsa',
  'unlicense',
  'zlib',
  'pddl',
  'lgpl-lr',
  'deepfloyd-if-license',
  'llama2',
  'gemma',
  'unknown',
  'other',
];

/** An SPDX-like id: letters, digits, `.`, `-`, `+` (e.g. `CC-BY-4.0`, `openrail++`). */
const LICENSE_ID = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;

/**
 * The card form of a licence id (lowercase, as the Hub spells them), or an error message saying why
 * the text is not an id.
 *
 * @example
 * normaliseLicence('CC-BY-4.0') // { id: 'cc-by-4.0', known: true }
 */
export function normaliseLicence(text: string): { id: string; known: boolean } | { error: string } {
  const trimmed = text.trim();
  if (!LICENSE_ID.test(trimmed)) {
    return { error: `"${text}" is not a licence id; use an SPDX or Hugging Face id such as cc-by-4.0, apache-2.0, mit, or "other"` };
  }
  const id = trimmed.toLowerCase();
  return { id, known: HF_LICENSE_IDS.includes(id) };
}

/** One dataset of a training mixture and its licence (undefined: no manifest or no licence in it). */
export interface LicensedSource {
  readonly name: string;
  readonly license?: string;
}

export interface LicenceCheck {
  /** Distinct licences found, sorted. */
  readonly licenses: string[];
  /** Sources without a licence. */
  readonly unlicensed: string[];
  /** One per incompatible pair present: the pair and the sources holding each side. */
  readonly conflicts: Array<{ readonly pair: [string, string]; readonly sources: [string[], string[]] }>;
  /** Printable warnings (conflicts first, then missing licences). */
  readonly warnings: string[];
}

/**
 * Check one training mixture against the pairs the user marked incompatible. Pairs are unordered
 * and compared case-insensitively; a pair naming the same licence twice never fires.
 */
export function checkLicences(
  sources: readonly LicensedSource[],
  incompatible: ReadonlyArray<readonly [string, string]> = [],
): LicenceCheck {
  const holders = new Map<string, string[]>();
  const unlicensed: string[] = [];
  for (const s of sources) {
    if (s.license === undefined || s.license.trim() === '') {
      unlicensed.push(s.name);
      continue;
    }
    const id = s.license.trim().toLowerCase();
    holders.set(id, [...(holders.get(id) ?? []), s.name]);
  }
  const conflicts: LicenceCheck['conflicts'] = [];
  const seen = new Set<string>();
  for (const [rawA, rawB] of incompatible) {
    const [a, b] = [rawA.trim().toLowerCase(), rawB.trim().toLowerCase()].sort() as [string, string];
    const key = `${a}\u0000${b}`;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    const left = holders.get(a);
    const right = holders.get(b);
    if (left && right) conflicts.push({ pair: [a, b], sources: [left, right] });
  }
  const warnings = conflicts.map(
    (c) =>
      `licences ${c.pair[0]} (${c.sources[0].join(', ')}) and ${c.pair[1]} (${c.sources[1].join(', ')}) are mixed in one training run, and trust.incompatible_licenses marks them incompatible`,
  );
  if (unlicensed.length > 0 && incompatible.length > 0) {
    warnings.push(
      `no licence known for ${unlicensed.join(', ')}: the incompatible-licence check cannot cover it (add one with mmft data manifest <file> --license ID)`,
    );
  }
  return { licenses: [...holders.keys()].sort(), unlicensed, conflicts, warnings };
}

/**
 * The licence a model card states: the recipe's `card.license` when given; else the one licence all
 * data sources agree on; else none, with the reason for the card body.
 */
export function cardLicence(recipeLicense: string | undefined, sources: readonly LicensedSource[]): { license?: string; note?: string } {
  if (recipeLicense !== undefined && recipeLicense.trim() !== '') return { license: recipeLicense.trim().toLowerCase() };
  const { licenses, unlicensed } = checkLicences(sources);
  if (sources.length > 0 && unlicensed.length === 0 && licenses.length === 1) return { license: licenses[0]! };
  if (licenses.length > 1) {
    return {
      note: `The training data carries several licences (${licenses.join(', ')}); set card.license in the recipe to state the model's.`,
    };
  }
  return {
    note:
      unlicensed.length > 0
        ? `No licence is recorded for ${unlicensed.join(', ')}; add one with mmft data manifest <file> --license ID, or set card.license in the recipe.`
        : 'No licence is recorded; set card.license in the recipe.',
  };
}
