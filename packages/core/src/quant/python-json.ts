// The JSON text Python's json.dumps writes with its default separators (", " and ": "), for the
// quant-state blob bitsandbytes packs into a uint8 tensor (bitsandbytes/utils.py pack_dict_to_tensor).
// Floats follow CPython's repr (Objects/floatobject.c float_repr, 'r' format): the shortest digits that
// round-trip the float64, positional for 1e-4 <= |x| < 1e16 with at least one digit after the point,
// otherwise d.ddde±XX with a two-digit minimum exponent.

/** Python's repr() of a float64 (also what json.dumps writes for a finite float). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives JS's shortest round-trip digits, the same digits as Python's repr.
  const [mantissa, exp] = x.toExponential().split('e');
  const e = Number(exp);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const intPart = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const frac = digits.slice(e + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

/** A JSON value Python would print: numbers marked as floats are printed with pythonFloatRepr. */
export type PyJson = string | number | boolean | null | PyFloat | PyJson[] | { [key: string]: PyJson };

/** A number json.dumps prints as a float (with ".0" or an exponent), not as an int. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** json.dumps(value) with Python's default separators; object keys in insertion order. */
export function pythonJsonDumps(value: PyJson): string {
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`pythonJsonDumps: ${value} is not an integer; wrap floats in PyFloat`);
    return String(value);
  }
  if (typeof value === 'string')
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
    .join(', ')}}`;
}
