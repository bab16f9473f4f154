// Python's `round(x, ndigits)` for floats, which vqaEval.py applies to every accuracy it reports.
// Both Pythons return the correctly rounded decimal; they differ on exact ties: Python 3 rounds
// them to even, Python 2.7 away from zero (CPython 2.7 Objects/floatobject.c `_Py_double_round`).
// JS `toFixed` is correctly rounded with ties away from zero (for x >= 0), i.e. Python 2's rule.

/**
 * `round(x, digits)` as CPython 3 computes it (variant `lavis`, whose copy runs on Python 3).
 *
 * @example
 * pythonRound(0.125, 2); // 0.12 (Python), where Number((0.125).toFixed(2)) is 0.13
 * pythonRound(66.66666666666667, 2); // 66.67
 */
export function pythonRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (x < 0) return -pythonRound(-x, digits);
  // x*10^d lies exactly halfway between integers iff x is an odd multiple of 2^-(d+1)
  // (10^d = 2^d·5^d): multiplying by a power of two is exact, so this test is too.
  const scaled = x * 2 ** (digits + 1);
  if (Number.isInteger(scaled) && scaled % 2 === 1) {
    let below = Math.floor(x * 10 ** digits);
    if (below % 2 === 1) below += 1;
    return below / 10 ** digits;
  }
  return Number(x.toFixed(digits));
}

/**
 * `round(x, digits)` as CPython 2.7 computes it (variant `official`: GT-Vision-Lab/VQA
 * vqaEval.py is Python 2 code).
 *
 * @example
 * python2Round(0.125, 2); // 0.13
 * python2Round(62.5, 0); // 63
 */
export function python2Round(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (x < 0) return -python2Round(-x, digits);
  return Number(x.toFixed(digits));
}
