// Writes the ms-swift bundle: train.sh running `swift sft` with the plan as arguments (arguments.ts), under the
// torchrun-style environment ms-swift reads (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT;
// modelscope/ms-swift@3602360a562313afbf2ef6065fdf61f271a2c5b9:examples/train/multi-node/swift/train_node1.sh).
import * as path from 'node:path';
import {
  bundleWriter,
  handoffScript,
  nodeCommand,
  nodesLine,
  type HandoffData,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
  type HandoffResult,
} from '@mmft/core';
import { swiftArguments } from './arguments';
import type { SwiftConfig } from './config';
import { swiftModelFor } from './models';
import { rewriteImageTags } from './rows';
import type { SwiftArg } from './tuner';

/** Shell-quotes a value when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The lines of train.sh. */
export function trainScript(plan: HandoffPlan, launch: HandoffLaunch, args: readonly SwiftArg[], imageRoot: string): string {
  const flags = args.map(([flag, ...values]) => `  --${flag} ${values.map((v) => shellQuote(String(v))).join(' ')}`);
  return handoffScript(
    launch,
    [
      `# ms-swift training of "${plan.name}", written by mmft handoff from ${path.basename(plan.recipeFile)}.`,
      '# Needs an ms-swift with --tuner_type (older releases call it --train_type). Run: bash train.sh',
      nodesLine(launch, 'bash train.sh'),
      `# The run lands in ${launch.outputDir}/v<N>-<timestamp>/checkpoint-<step>; bring it back with mmft import.`,
    ],
    [
      `# Image paths in the rows are relative to ${imageRoot}/ (ms-swift joins relative paths to ROOT_IMAGE_DIR).`,
      `export ROOT_IMAGE_DIR="$PWD/${imageRoot}"`,
      'swift sft \\',
      flags.join(' \\\n'),
    ],
  );
}

/**
 * Writes train.sh (and, for templates that add their own newline after an image, rows without LLaVA's
 * `<image>\n`) into the bundle.
 */
export async function writeSwiftBundle(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  bundleDir: string,
  config: SwiftConfig,
): Promise<HandoffResult> {
  const files: string[] = [];
  const model = swiftModelFor(plan.model.architecture);
  let trainFile = data.train;
  let evalFile = data.eval;
  const extraMappings: HandoffMapping[] = [];
  if (model?.imageTagNewline && !config.template) {
    trainFile = await rewriteImageTags(bundleDir, data.train);
    evalFile = data.eval ? await rewriteImageTags(bundleDir, data.eval) : undefined;
    files.push(trainFile, ...(evalFile ? [evalFile] : []));
    extraMappings.push({
      mmft: 'data',
      target: `${trainFile}${evalFile ? `, ${evalFile}` : ''}`,
      note: `${model.template} writes every <image> as "<image>\\n", so these rows drop the newline after <image>`,
    });
  }
  const planned = swiftArguments(plan, data, launch, config, trainFile, evalFile);
  const imageRoot = path.posix.dirname(data.train);
  bundleWriter(bundleDir, files)('train.sh', trainScript(plan, launch, planned.args, imageRoot), 0o755);
  return {
    files,
    commands: [nodeCommand(launch, 'bash train.sh')],
    mappings: [...planned.mappings, ...extraMappings],
    gaps: planned.gaps,
    output: launch.outputDir,
  };
}
