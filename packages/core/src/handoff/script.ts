// The pieces of a target's files that every engine writes the same way: the launch script's frame (shebang,
// strict mode, the bundle as working directory, the torchrun-style environment), the per-node command line,
// the batch split note and gap, and the bundle-file writer that records what it wrote.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HandoffGap, HandoffLaunch, HandoffPlan } from '../contracts/handoff';
import { distributedEnvLines, perDeviceBatch, type PerDeviceBatch } from './launch';

/**
 * A bash launch script: `comments` after the shebang, then strict mode, `cd` into the bundle, the distributed
 * environment (each variable keeps a value the caller set), then `body`.
 *
 * @example
 * handoffScript(launch, ['# Run: bash train.sh'], ['swift sft \\', '  --model m']).split('\n')[3]; // 'cd "$(dirname "$0")"'
 */
export function handoffScript(launch: HandoffLaunch, comments: readonly string[], body: readonly string[]): string {
  return [
    '#!/usr/bin/env bash',
    ...comments,
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    ...distributedEnvLines(launch),
    ...body,
    '',
  ].join('\n');
}

/**
 * The script comment on nodes: how to start each one, or that the batch split assumes this layout.
 *
 * @example
 * nodesLine({ nodes: 2, gpus: 8 }, 'bash launch.sh'); // '# On each of the 2 nodes: NODE_RANK=<0..1> MASTER_ADDR=<node 0 address> bash launch.sh'
 */
export function nodesLine(launch: Pick<HandoffLaunch, 'gpus' | 'nodes'>, command: string): string {
  return launch.nodes > 1
    ? `# On each of the ${launch.nodes} nodes: NODE_RANK=<0..${launch.nodes - 1}> MASTER_ADDR=<node 0 address> ${command}`
    : `# Written for 1 node × ${launch.gpus} GPU(s), which the batch split assumes; for more nodes rerun mmft handoff with --nodes.`;
}

/**
 * The command a user runs on each node: with several nodes it names the variables each node must set.
 *
 * @example
 * nodeCommand({ nodes: 2 }, 'bash train.sh'); // 'NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR bash train.sh'
 */
export function nodeCommand(launch: Pick<HandoffLaunch, 'nodes'>, command: string): string {
  return `${launch.nodes > 1 ? 'NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR ' : ''}${command}`;
}

/** perDeviceBatch with the mapping note that explains the split and, when the world cannot split it, the gap. */
export interface BatchSplit {
  readonly batch: PerDeviceBatch;
  readonly note: string;
  readonly gap?: HandoffGap;
}

/**
 * @example
 * batchSplit(plan, { gpus: 2, nodes: 1 }).note; // '16 × 1 on one process = 8 per device × 1 accumulation × 2 processes'
 */
export function batchSplit(plan: Pick<HandoffPlan, 'train'>, launch: Pick<HandoffLaunch, 'gpus' | 'nodes'>): BatchSplit {
  const batch = perDeviceBatch(plan, launch);
  const { batchSize, gradAccum } = plan.train;
  const note = `${batchSize} × ${gradAccum} on one process = ${batch.perDevice} per device × ${batch.accum} accumulation × ${batch.world} processes`;
  if (batch.exact) return { batch, note };
  const why = `${batch.world} processes cannot split the global batch ${batchSize * gradAccum}; the run uses ${batch.global} examples per step`;
  return { batch, note, gap: { field: 'train.batch_size', why } };
}

/**
 * A writer of bundle files that records each bundle-relative name in `files` (the target's HandoffResult.files).
 *
 * @example
 * const files: string[] = [];
 * const write = bundleWriter(dir, files);
 * write('launch.sh', script, 0o755); // files: ['launch.sh']
 */
export function bundleWriter(bundleDir: string, files: string[]): (name: string, text: string, mode?: number) => void {
  return (name, text, mode) => {
    const file = path.join(bundleDir, name);
    fs.writeFileSync(file, text);
    // chmod, not writeFileSync's mode: that one is masked by the umask and skipped for a file that exists.
    if (mode !== undefined) fs.chmodSync(file, mode);
    files.push(name);
  };
}
