// The LLaMA-Factory bundle: data/dataset_info.json naming core's chat rows as a sharegpt dataset,
// train.yaml for `llamafactory-cli train`, the DeepSpeed json or accelerate config the strategy needs,
// and launch.sh. Key names and meanings follow hiyouga/LLaMA-Factory@ff6d4d1 (src/llamafactory/hparams/*,
// launcher.py, examples/train_lora/qwen3vl_lora_sft.yaml, examples/extras/fsdp_qlora/train.sh,
// model/adapter.py and model/model_utils/misc.py for lora_target "all"); known-keys.ts lists them.
import * as path from 'node:path';
import {
  accelerateConfig,
  bundleWriter,
  deepspeedConfig,
  handoffScript,
  type HandoffData,
  type HandoffGap,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
  type HandoffResult,
} from '@mmft/core';
import type { LlamaFactoryConfig } from './config';
import { rowsLlamaFactorySkips } from './rows';
import { trainYaml } from './train-yaml';

/**
 * Writes the LLaMA-Factory files into `bundleDir` (core has written `data/`).
 *
 * @example
 * const result = await writeLlamaFactoryBundle(plan, data, { gpus: 8, nodes: 1, strategy: 'zero2', precision: 'bf16', outputDir: 'output' }, dir, {});
 */
export async function writeLlamaFactoryBundle(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  bundleDir: string,
  config: LlamaFactoryConfig,
): Promise<HandoffResult> {
  const gaps: HandoffGap[] = [];
  const mappings: HandoffMapping[] = [];
  const files: string[] = [];
  const write = bundleWriter(bundleDir, files);

  // data/dataset_info.json: file names are relative to dataset_dir, images to media_dir (= dataset_dir).
  const sharegpt = (file: string) => ({
    file_name: path.posix.relative('data', file),
    formatting: 'sharegpt',
    columns: { messages: 'messages', images: 'images' },
    tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
  });
  for (const [split, file] of [
    ['data.train', data.train],
    ['data.eval', data.eval],
  ] as const) {
    if (!file) continue;
    const skipped = rowsLlamaFactorySkips(path.join(bundleDir, file));
    if (skipped.count > 0) {
      gaps.push({
        field: split,
        why: `${skipped.count} rows of ${file} (first: line ${skipped.first}) do not alternate user / assistant turns ending with the assistant; LLaMA-Factory skips them`,
      });
    }
  }
  const info: Record<string, unknown> = { mmft_train: sharegpt(data.train), ...(data.eval ? { mmft_eval: sharegpt(data.eval) } : {}) };
  write('data/dataset_info.json', `${JSON.stringify(info, null, 2)}\n`);

  const trainYamlText = trainYaml(plan, data, launch, config, gaps, mappings);
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') {
    const file = launch.strategy === 'zero2' ? 'ds_z2_config.json' : 'ds_z3_config.json';
    write(file, `${JSON.stringify(deepspeedConfig(launch.strategy === 'zero2' ? 2 : 3), null, 2)}\n`);
  }
  write('train.yaml', trainYamlText);

  let run: string;
  if (launch.strategy === 'fsdp') {
    // LLaMA-Factory runs FSDP through accelerate (examples/extras/fsdp_qlora/train.sh) with its src/train.py entry.
    const yaml = Object.entries(accelerateConfig(launch))
      .map(([k, v]) =>
        typeof v === 'object' && v !== null
          ? `${k}:\n${Object.entries(v)
              .map(([a, b]) => `  ${a}: ${JSON.stringify(b)}`)
              .join('\n')}`
          : `${k}: ${JSON.stringify(v)}`,
      )
      .join('\n');
    write('accelerate_config.yaml', `${yaml}\n`);
    write(
      'lf_train.py',
      '# LLaMA-Factory\'s training entry (its src/train.py), for accelerate launch.\nfrom llamafactory.train.tuner import run_exp\n\nif __name__ == "__main__":\n    run_exp()\n',
    );
    mappings.push({ mmft: '--strategy', target: 'accelerate_config.yaml (FSDP full shard)' });
    run =
      'accelerate launch --config_file accelerate_config.yaml --num_machines "$NNODES" --machine_rank "$NODE_RANK" ' +
      '--main_process_ip "$MASTER_ADDR" --main_process_port "$MASTER_PORT" --num_processes "$((NNODES * NPROC_PER_NODE))" lf_train.py train.yaml';
  } else {
    run = 'llamafactory-cli train train.yaml';
  }
  const script = handoffScript(
    launch,
    ['# Written by mmft handoff. One node: bash launch.sh. Several: set NNODES, NODE_RANK, MASTER_ADDR on each node first.'],
    // llamafactory-cli uses torchrun only when FORCE_TORCHRUN is set or it sees several GPUs (launcher.py); DeepSpeed needs it.
    ['export FORCE_TORCHRUN=1', run],
  );
  write('launch.sh', script, 0o755);

  return {
    files,
    commands: ['bash launch.sh', `# i.e. ${run}`],
    mappings,
    gaps,
    output: launch.outputDir,
  };
}
