// The addon exports exactly the kernel names of core's table (plus info and benchmark): checked on
// the N-API glue's source, so it runs where nothing was compiled.
import { describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dequantize4bit, MatMul4bit } from '@mmft/core/kernels';
import { CUDA_SYMBOLS } from './index';

describe('CUDA addon symbols', () => {
  it("are the names in core's kernel table", () => {
    const source = fs.readFileSync(path.join(__dirname, 'cu', 'napi', 'addon.cc'), 'utf8');
    const exported = [...source.matchAll(/\{"(\w+)", nullptr, \w+, nullptr/g)].map((m) => m[1]);
    expect(CUDA_SYMBOLS).toEqual(['MmftDequantize4bit', 'MmftMatMul4bit']);
    expect([Dequantize4bit, MatMul4bit]).toEqual([...CUDA_SYMBOLS]);
    expect(exported.sort()).toEqual([...CUDA_SYMBOLS, 'benchmark', 'info'].sort());
  });
});
