// Writes the accelerate bundle: our own train.py (transformers Trainer + peft, assets/train.py), the plan as
// train_config.json, the Trainer's arguments as train_args.json, accelerate's config (core's accelerateConfig),
// the DeepSpeed json when a ZeRO stage is chosen, launch.sh and requirements.txt. Values live in the JSON
// files so the script stays the same for every recipe.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  accelerateConfig,
  bundleWriter,
  deepspeedConfig,
  handoffScript,
  nodeCommand,
  nodesLine,
  type HandoffData,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
  type HandoffResult,
} from '@mmft/core';
import { stringify } from 'yaml';
import type { AccelerateTargetConfig } from './config';
import { acceleratePlanFiles } from './plan-files';

/** The script every bundle carries (assets/ sits beside src/ and dist/). */
export const TRAIN_PY = path.join(__dirname, '..', 'assets', 'train.py');

/** launch.sh: accelerate launch from the bundle with the machine layout taken from the environment. */
export function launchScript(plan: HandoffPlan, launch: HandoffLaunch): string {
  return handoffScript(
    launch,
    [
      `# Hugging Face accelerate training of "${plan.name}", written by mmft handoff from ${path.basename(plan.recipeFile)}.`,
      '# pip install -r requirements.txt, then: bash launch.sh',
      nodesLine(launch, 'bash launch.sh'),
      `# The adapter (or model) and the processor land in ${launch.outputDir}/; bring them back with mmft import.`,
    ],
    [
      'accelerate launch --config_file accelerate_config.yaml \\',
      '  --num_machines "$NNODES" --num_processes "$((NNODES * NPROC_PER_NODE))" \\',
      '  --machine_rank "$NODE_RANK" --main_process_ip "$MASTER_ADDR" --main_process_port "$MASTER_PORT" \\',
      '  train.py',
    ],
  );
}

/** requirements.txt: what train.py imports, plus the engines the launch needs. */
export function requirements(plan: HandoffPlan, launch: HandoffLaunch): string {
  const lines = ['torch>=2.1', 'transformers>=4.46', 'peft>=0.10', 'accelerate>=1.0', 'pillow'];
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') lines.push('deepspeed>=0.14');
  if (plan.model.quantization) lines.push('bitsandbytes>=0.43');
  return lines.join('\n') + '\n';
}

/** Writes the bundle's accelerate files. */
export async function writeAccelerateBundle(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  bundleDir: string,
  config: AccelerateTargetConfig,
): Promise<HandoffResult> {
  const planned = acceleratePlanFiles(plan, data, launch);
  const files: string[] = [];
  const write = bundleWriter(bundleDir, files);
  write('train.py', fs.readFileSync(TRAIN_PY, 'utf8'), 0o755);
  write('train_config.json', JSON.stringify(planned.trainConfig, null, 2) + '\n');
  write('train_args.json', JSON.stringify(planned.trainArgs, null, 2) + '\n');
  let deepspeedFile: string | undefined;
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') {
    deepspeedFile = launch.strategy === 'zero2' ? 'ds_zero2.json' : 'ds_zero3.json';
    write(
      deepspeedFile,
      JSON.stringify(deepspeedConfig(launch.strategy === 'zero2' ? 2 : 3, { offload: config.deepspeed_offload }), null, 2) + '\n',
    );
  }
  write('accelerate_config.yaml', stringify(accelerateConfig(launch, deepspeedFile ? { deepspeedConfigFile: deepspeedFile } : {})));
  write('launch.sh', launchScript(plan, launch), 0o755);
  write('requirements.txt', requirements(plan, launch));
  const mappings: HandoffMapping[] = [
    ...planned.mappings,
    {
      mmft: 'launch',
      target: `accelerate_config.yaml${deepspeedFile ? `, ${deepspeedFile}` : ''}`,
      note: `${launch.strategy}, ${launch.gpus} GPU(s) × ${launch.nodes} node(s), ${launch.precision}`,
    },
  ];
  return {
    files,
    commands: ['pip install -r requirements.txt', nodeCommand(launch, 'bash launch.sh')],
    mappings,
    gaps: planned.gaps,
    output: launch.outputDir,
  };
}
