import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HandoffLaunch } from '../contracts/handoff';
import { batchSplit, bundleWriter, handoffScript, nodeCommand, nodesLine } from './script';

const launch = (over: Partial<HandoffLaunch> = {}): HandoffLaunch => ({
  gpus: 2,
  nodes: 1,
  strategy: 'ddp',
  precision: 'bf16',
  outputDir: 'output',
  ...over,
});
const train = (batchSize: number, gradAccum: number) => ({ train: { batchSize, gradAccum } }) as never;

describe('launch script pieces', () => {
  test('the frame: shebang, comments, strict mode, cd, the five distributed variables with defaults, the body, a final newline', () => {
    expect(handoffScript(launch({ gpus: 4, nodes: 2 }), ['# one', '# two'], ['run a \\', '  --b c'])).toBe(
      [
        '#!/usr/bin/env bash',
        '# one',
        '# two',
        'set -euo pipefail',
        'cd "$(dirname "$0")"',
        'export NNODES="${NNODES:-2}"',
        'export NODE_RANK="${NODE_RANK:-0}"',
        'export MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"',
        'export MASTER_PORT="${MASTER_PORT:-29500}"',
        'export NPROC_PER_NODE="${NPROC_PER_NODE:-4}"',
        'run a \\',
        '  --b c',
        '',
      ].join('\n'),
    );
  });

  test('one node names the layout the batch split assumes; several say how to start each', () => {
    expect(nodesLine({ gpus: 8, nodes: 1 }, 'bash x.sh')).toBe(
      '# Written for 1 node × 8 GPU(s), which the batch split assumes; for more nodes rerun mmft handoff with --nodes.',
    );
    expect(nodesLine({ gpus: 8, nodes: 3 }, 'bash x.sh')).toBe(
      '# On each of the 3 nodes: NODE_RANK=<0..2> MASTER_ADDR=<node 0 address> bash x.sh',
    );
    expect(nodeCommand({ nodes: 1 }, 'bash x.sh')).toBe('bash x.sh');
    expect(nodeCommand({ nodes: 2 }, 'bash x.sh')).toBe('NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR bash x.sh');
  });

  test('batchSplit: 16 × 1 over 2 GPUs is exact; 4 × 4 over 3 rounds to 5 per rank = 15 and says so', () => {
    expect(batchSplit(train(16, 1), { gpus: 2, nodes: 1 })).toEqual({
      batch: { perDevice: 8, accum: 1, world: 2, global: 16, exact: true },
      note: '16 × 1 on one process = 8 per device × 1 accumulation × 2 processes',
    });
    const uneven = batchSplit(train(4, 4), { gpus: 3, nodes: 1 });
    expect(uneven.batch).toEqual({ perDevice: 1, accum: 5, world: 3, global: 15, exact: false });
    expect(uneven.gap).toEqual({
      field: 'train.batch_size',
      why: '3 processes cannot split the global batch 16; the run uses 15 examples per step',
    });
  });

  test('bundleWriter writes under the bundle, records names in order and sets the mode exactly', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-script-'));
    fs.mkdirSync(path.join(dir, 'data'));
    const files: string[] = [];
    const write = bundleWriter(dir, files);
    write('data/a.json', '{}\n');
    write('run.sh', 'echo\n', 0o755);
    expect(files).toEqual(['data/a.json', 'run.sh']);
    expect(fs.readFileSync(path.join(dir, 'data/a.json'), 'utf8')).toBe('{}\n');
    expect(fs.statSync(path.join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
