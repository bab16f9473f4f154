// The environment half of provenance.json (./provenance.ts): the git state of a work tree, the
// mmft version, and the node/platform/tfjs/engine a run used.
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import type { GitState } from './provenance';

/** `git rev-parse HEAD` and `git status --porcelain` of the work tree holding `dir`. */
export function gitState(dir: string): GitState {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  try {
    const commit = git(['rev-parse', 'HEAD']).trim();
    // Only the recipe's own folder counts as dirty: other work in a big repository says nothing about this run.
    const dirty = git(['status', '--porcelain', '--', '.']).trim() !== '';
    return { commit, dirty };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { none: code === 'ENOENT' ? 'git is not installed' : `${dir} is not inside a git work tree with a commit` };
  }
}

let coreVersion: string | undefined;
/** The version of @mmft/core (all mmft packages share one version). */
export function mmftVersion(): string {
  if (coreVersion === undefined) {
    try {
      coreVersion = (require('../../package.json') as { version: string }).version;
    } catch {
      coreVersion = 'unknown';
    }
  }
  return coreVersion;
}

/** Node, platform, tfjs, the active engine and the mmft kernels it registers. */
export function environment(extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  let engine: string | null;
  let kernels: string[] = [];
  try {
    // tf.getBackend() initialises the best registered backend when none is set yet; with none registered it throws.
    engine = tf.getBackend() ?? null;
    if (engine)
      kernels = tf
        .getKernelsForBackend(engine)
        .map((k) => k.kernelName)
        .filter((n) => n.startsWith('Mmft'))
        .sort();
  } catch {
    engine = null;
  }
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    mmft: mmftVersion(),
    tfjs: tf.version_core,
    engine,
    kernels,
    ...extra,
  };
}
