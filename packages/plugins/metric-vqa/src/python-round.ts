// Python's `round(x, ndigits)` for floats, which vqaEval.py applies to every accuracy it reports:
// the correctly rounded decimal, exact ties to even. JS `toFixed` is also correctly rounded but
// sends exact ties up, so ties are found and settled here.

/**
 * `round(x, digits)` as CPython computes it.
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
