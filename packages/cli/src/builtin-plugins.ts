// First-party plugin packages the CLI always loads (it depends on them). Anything else is loaded
// only when a recipe or `--plugin` names it: mmft never scans node_modules.
export const BUILTIN_PLUGINS: readonly string[] = [
  '@mmft/backend-tfjs',
  '@mmft/data-jsonl',
  '@mmft/data-shapes',
  '@mmft/arch-clip',
  '@mmft/loss-contrastive',
  '@mmft/trainer-standard',
  '@mmft/peft-lora',
  '@mmft/peft-adapter',
  '@mmft/peft-prefix',
  '@mmft/metric-caption',
  '@mmft/metric-vqa',
  '@mmft/metric-retrieval',
];
