// The build script never fails an install: switched off (or without nvcc) it exits 0 and records why.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

describe('scripts/build-cuda.js', () => {
  it('skips with exit status 0 and writes the reason where loadCudaKernels reads it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cuda-build-'));
    const result = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'build-cuda.js')], {
      env: { ...process.env, MMFT_CUDA_BUILD: '0', MMFT_CUDA_BUILD_DIR: dir },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('@mmft/cuda-kernels: MMFT_CUDA_BUILD=0: CUDA kernels not built');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'build-status.json'), 'utf8'))).toEqual({
      built: false,
      reason: 'MMFT_CUDA_BUILD=0: CUDA kernels not built',
    });
    fs.rmSync(dir, { recursive: true });
  });
});
