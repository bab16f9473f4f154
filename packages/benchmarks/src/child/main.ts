// Child-process entry of the suite: runs ONE experiment in a fresh Node process (so peak RSS and
// the process-global tfjs backend are its own) and prints `RESULT <json>` with its SideResult, or
// `ERROR <json>` with the message (suite/spawn.ts parses both). Usage: node dist/child/main.js <experiment.yaml>
import 'reflect-metadata';
import { isMmftError } from '@mmft/core';
import { isLmExperiment, isVisionLmExperiment, loadExperiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import type { SideResult } from '../suite/result';
import { runData } from './run-data';
import { runEmbed } from './run-embed';
import { runEmbedText } from './run-embed-text';
import { runGenerate } from './run-generate';
import { runKernel } from './run-kernel';
import { runLmTrain } from './run-lm-train';
import { runMetrics } from './run-metrics';
import { runOnnxRuntime } from './run-onnx';
import { runTrain } from './run-train';
import { runCaption, runVlmTrain } from './run-vlm';

async function main(file: string | undefined): Promise<void> {
  if (!file) throw new Error('usage: node dist/child/main.js <experiment.yaml>');
  const registry = await benchRegistry();
  const experiment = loadExperiment(file, registry);
  const train = isVisionLmExperiment(experiment) ? runVlmTrain : isLmExperiment(experiment) ? runLmTrain : runTrain;
  let run = {
    train,
    embed: runEmbed,
    'embed-text': runEmbedText,
    data: runData,
    metrics: runMetrics,
    prefill: runGenerate,
    decode: runGenerate,
    caption: runCaption,
    kernel: runKernel,
  }[experiment.bench.kind];
  if (experiment.bench.runtime === 'onnxruntime') run = runOnnxRuntime;
  const result: SideResult = await run(experiment, registry);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main(process.argv[2]).then(
    () => process.exit(0), // worker pools and wasm keep the loop alive; the result is printed
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const hint = isMmftError(error) ? error.hint : undefined;
      process.stdout.write(`ERROR ${JSON.stringify({ message, hint, code: isMmftError(error) ? error.code : undefined })}\n`);
      process.exit(1);
    },
  );
}
