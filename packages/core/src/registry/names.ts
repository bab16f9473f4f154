// Name rules and "did you mean" suggestions shared by the registry, recipes and PEFT targeting.

const KEBAB_ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Provider ids are lowercase kebab-case (docs/conventions.md §6). */
export function isKebabId(id: string): boolean {
  return KEBAB_ID.test(id);
}

/** Levenshtein distance; small inputs only (ids, module names). */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** Up to `limit` candidates closest to `name` (substring matches first, then by edit distance). */
export function closestNames(name: string, candidates: readonly string[], limit = 5): string[] {
  const scored = candidates.map((candidate) => ({
    candidate,
    score: candidate.includes(name) || name.includes(candidate) ? 0 : editDistance(name, candidate),
  }));
  return scored
    .sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate))
    .slice(0, limit)
    .map((s) => s.candidate);
}
