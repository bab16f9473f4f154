// `mmft generate <model-dir> --prompt "..." [--image file]`: text from a causal language model, or
// from a vision-to-LLM model (BLIP-2) given images, decoded as transformers' generate() decodes
// (docs/generation.md). The architecture comes from config.json's model_type through the
// registry; decoding options not given come from the folder's generation_config.json. Images and
// their token span are prepared as the model's processor says (generate-image.ts). A single row on
// a terminal streams its text as it is decoded; otherwise the texts print at the end, one block per
// returned sequence, or as JSON with --json.
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import {
  architectureContext,
  isCausalLanguageModel,
  loadAdapter,
  MmftError,
  parseConfig,
  type GenerationChunk,
  type GenerationOptions,
  type GenerationResult,
  type ModelInputs,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { quantizeLinears4bit } from '@mmft/core/nn';
import type { CliContext } from '../context';
import { readsImages } from './generate-image';
import { imageInputs, textInputs, type GenerateCliOptions } from './generate-inputs';
import { runGenerateBatch, type GenerateBatchCliOptions } from './generate-batch';

export function decodingOptions(o: GenerateCliOptions): GenerationOptions {
  const early = o.earlyStopping === undefined ? undefined : o.earlyStopping === 'never' ? 'never' : o.earlyStopping === 'true';
  const all: GenerationOptions = {
    maxNewTokens: o.maxNewTokens,
    minNewTokens: o.minNewTokens,
    numBeams: o.numBeams,
    numReturnSequences: o.numReturnSequences,
    doSample: o.doSample,
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    minP: o.minP,
    repetitionPenalty: o.repetitionPenalty,
    noRepeatNgramSize: o.noRepeatNgramSize,
    lengthPenalty: o.lengthPenalty,
    earlyStopping: early,
    stopStrings: o.stop,
    seed: o.seed,
  };
  // Unset options stay unset, so generation_config.json fills them.
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as GenerationOptions;
}

/** A model `mmft generate` can run: a causal LM, or a vision-to-LLM bridge (BLIP-2) whose generate reads pixels. */
type GeneratingModel = VisionLanguageModel & {
  generate(inputs: ModelInputs, options?: GenerationOptions): Promise<GenerationResult>;
  generateStream?(inputs: ModelInputs, options?: GenerationOptions): AsyncIterable<GenerationChunk>;
};

/** Loads the model (and adapter) named on the command line. */
export async function loadModel(ctx: CliContext, dir: string, o: GenerateCliOptions): Promise<GeneratingModel> {
  const modelType = await readModelType(dir);
  const registry = await ctx.createRegistry(o.plugin ?? []);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(dir, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(dir, {}, architectureContext(registry));
  if (!isCausalLanguageModel(model) && !readsImages(model)) {
    model.dispose();
    throw new MmftError(
      'E_UNSUPPORTED',
      `${path.join(dir, 'config.json')}: model_type "${modelType}" (${model.family}) does not generate text`,
      {
        hint: 'mmft generate needs a causal language model (opt, gpt2, llama) or a vision-to-LLM model (blip-2)',
      },
    );
  }
  try {
    const adapter = o.adapter
      ? await loadAdapter(path.resolve(ctx.cwd, o.adapter), model.root, registry.list('peft'), {
          renameKey: model.checkpointKeyName?.bind(model),
        })
      : undefined;
    if (o.loadIn4bit) {
      // After the adapter, as the trainer quantises after PEFT: the adapter's own Linears and a
      // modules_to_save copy (LLaVA's projector) stay float32, as PEFT's layers beside bitsandbytes'
      // Linear4bit do; every other Linear but lm_head goes to NF4 + double quantisation.
      model.root.freeze('**');
      for (const [, variable] of adapter?.applied.trainableParameters() ?? []) variable.trainable = true;
      quantizeLinears4bit(model.root, {});
      model.root.freeze('**');
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model as GeneratingModel;
}

/** Runs the command; exported for programmatic use and tests. */
export async function runGenerate(ctx: CliContext, modelDir: string, o: GenerateBatchCliOptions): Promise<void> {
  if (o.input !== undefined) return runGenerateBatch(ctx, modelDir, o, (dir, options) => loadModel(ctx, dir, options), decodingOptions(o));
  const dir = path.resolve(ctx.cwd, modelDir);
  o = { ...o, image: o.image ?? [], prompt: o.prompt ?? [] };
  if (o.prompt.length === 0 && o.image.length === 0) throw new MmftError('E_INPUT', 'mmft generate: give at least one --prompt');
  const model = await loadModel(ctx, dir, o);
  try {
    const prepared = readsImages(model) ? await imageInputs(ctx, model, dir, o) : textInputs(model, dir, o);
    const options = decodingOptions(o);
    // Image rows reach the language model as embeddings, which a generation_config max_length
    // (20 by default) would count: give them the 20 new tokens generate() gives a text prompt.
    const generation = (model as { generationConfig?: Readonly<Record<string, unknown>> }).generationConfig;
    if (readsImages(model) && options.maxNewTokens === undefined && generation?.max_new_tokens === undefined)
      Object.assign(options, { maxNewTokens: 20 });
    try {
      const streamable =
        o.stream !== false &&
        ctx.isTTY &&
        !o.json &&
        prepared.rows === 1 &&
        (o.numBeams ?? 1) === 1 &&
        (o.numReturnSequences ?? 1) === 1 &&
        typeof model.generateStream === 'function';
      if (streamable) {
        for await (const chunk of model.generateStream!(prepared.inputs, options)) ctx.stdout.write(chunk.texts[0] ?? '');
        ctx.stdout.write('\n');
        return;
      }
      const result = await model.generate(prepared.inputs, options);
      if (o.json) {
        ctx.print(
          JSON.stringify({ ...prepared.echo, sequences: result.sequences, texts: result.texts, sequencesScores: result.sequencesScores }),
        );
        return;
      }
      const perRow = result.texts.length / prepared.rows;
      result.texts.forEach((text, i) => {
        if (prepared.rows > 1 || perRow > 1) ctx.print(`[${Math.floor(i / perRow) + 1}${perRow > 1 ? `.${(i % perRow) + 1}` : ''}]`);
        ctx.print(text);
      });
    } finally {
      tf.dispose(prepared.owned);
    }
  } finally {
    model.dispose();
  }
}

const int = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 0, got "${value}"`);
  return n;
};
const num = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${flag} takes a number, got "${value}"`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The `generate` command.
 *
 * @example
 * program.addCommand(generateCommand(ctx)); // mmft generate models/llama-shapes-base --prompt "Q: what shape is red?"
 */
export function generateCommand(ctx: CliContext): Command {
  return new Command('generate')
    .description(
      "Generate text with a causal language model, or from images with a vision-to-LLM model (decoding as transformers' generate())",
    )
    .argument('<model-dir>', 'checkpoint folder (config.json, model.safetensors, tokenizer.json)')
    .option('--prompt <text>', 'a prompt (repeat for a batch; rows are left-padded)', collect, [])
    .option(
      '--image <file>',
      'an image for a vision-to-LLM model (repeat for a batch: paired with the prompts in order, or one prompt for all; no prompt captions; a prompt with several <image> marks takes one image per mark, in order)',
      collect,
      [],
    )
    .option('--chat', "render each prompt as a user turn through the tokenizer's chat_template, with the generation prompt")
    .option('--system <text>', 'with --chat: a system message before each prompt')
    .option('--adapter <dir>', 'a PEFT adapter folder to apply (adapter_config.json + adapter_model.safetensors)')
    .option(
      '--load-in-4bit',
      "hold the model's Linear weights (lm_head excepted) in bitsandbytes NF4 with double quantisation, as from_pretrained(load_in_4bit=True); the adapter stays float32",
    )
    .option(
      '--max-new-tokens <n>',
      'new tokens at most (default from generation_config.json, else 20 tokens in all)',
      int('--max-new-tokens'),
    )
    .option('--min-new-tokens <n>', 'new tokens before an end-of-sequence token may end a row', int('--min-new-tokens'))
    .option('--num-beams <n>', 'beam search with n beams', int('--num-beams'))
    .option('--num-return-sequences <n>', 'sequences returned per prompt', int('--num-return-sequences'))
    .option('--do-sample', 'sample instead of greedy / beam search')
    .option('--temperature <t>', 'sampling temperature', num('--temperature'))
    .option('--top-k <k>', 'sample among the k most likely tokens', int('--top-k'))
    .option('--top-p <p>', 'nucleus sampling: the smallest set with probability ≥ p', num('--top-p'))
    .option('--min-p <p>', 'drop tokens below p × the top probability', num('--min-p'))
    .option('--repetition-penalty <r>', 'penalise tokens already in the sequence (CTRL)', num('--repetition-penalty'))
    .option('--no-repeat-ngram-size <n>', 'never repeat an n-gram', int('--no-repeat-ngram-size'))
    .option('--length-penalty <x>', 'beam scores are divided by length ** x', num('--length-penalty'))
    .addOption(new Option('--early-stopping <mode>', 'beam search stop rule').choices(['true', 'false', 'never']))
    .option('--stop <text>', 'stop a row when its text ends with this (repeatable)', collect)
    .option(
      '--seed <n>',
      'seed of the sampling stream (batch: batch k samples with a seed derived from (seed, k), so a queued run samples as a single process)',
      int('--seed'),
    )
    .option(
      '--json',
      'print {prompts, sequences, texts, sequencesScores} as JSON (with --image also images, one per row: a list for a row with several)',
    )
    .option('--no-stream', 'print the text at the end even on a terminal')
    .option(
      '--input <file>',
      'batch: JSONL rows {"id"?, "prompt", "images"?} or {"id"?, "messages": [{role, content}], "images"?} (images resolve from its folder)',
    )
    .option('--output <file>', 'batch: write {id, prompt|messages, text} rows here, in input order (atomically)')
    .option('--batch-size <n>', 'batch: rows per generate() call (default 8)', int('--batch-size'))
    .option(
      '--queue <url>',
      'batch: spread the shards over `mmft worker`s through this Redis (redis://host:port[/db]); workers must see the same paths',
    )
    .option('--shard-size <n>', 'batch: rows per queued shard, a multiple of --batch-size (default 4 batches)', int('--shard-size'))
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures, PEFT methods)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((modelDir: string, o: GenerateBatchCliOptions) => runGenerate(ctx, modelDir, o));
}
