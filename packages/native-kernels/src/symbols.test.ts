// The addon's symbols are listed once (kernels.ts); the C++ side must export exactly those: its
// X-macro list (src/cc/napi/symbols.h), one binding file per symbol in binding.gyp, and, where the
// addon is built here, the functions the loaded addon really has.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { NATIVE_SYMBOLS } from './kernels';

const root = path.join(__dirname, '..');
const fileOf = (symbol: string): string => `src/cc/napi/${symbol.replace(/^Mmft/, '')}.cc`;

describe('native symbols', () => {
  test('src/cc/napi/symbols.h lists NATIVE_SYMBOLS, in order', () => {
    const header = fs.readFileSync(path.join(root, 'src/cc/napi/symbols.h'), 'utf8');
    const listed = [...header.matchAll(/^\s*X\((\w+)\)/gm)].map((m) => m[1]);
    expect(listed).toEqual([...NATIVE_SYMBOLS]);
  });

  test('each symbol has its binding file, and binding.gyp compiles it', () => {
    const gyp = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
    for (const symbol of NATIVE_SYMBOLS) {
      expect(fs.readFileSync(path.join(root, fileOf(symbol)), 'utf8')).toContain(
        `napi_value ${symbol}(napi_env env, napi_callback_info info)`,
      );
      expect(gyp).toContain(`"${fileOf(symbol)}"`);
    }
    const bindings = fs.readdirSync(path.join(root, 'src/cc/napi')).filter((f) => f.endsWith('.cc'));
    expect(bindings.sort()).toEqual(NATIVE_SYMBOLS.map((s) => path.basename(fileOf(s))).sort());
  });

  const addonPath = path.join(root, 'build', 'Release', 'mmft_native.node');
  (fs.existsSync(addonPath) ? test : test.skip)('the built addon exports exactly info and NATIVE_SYMBOLS', () => {
    const addon = require(addonPath) as Record<string, unknown>;
    expect(Object.keys(addon).sort()).toEqual(['info', ...NATIVE_SYMBOLS].sort());
  });
});
