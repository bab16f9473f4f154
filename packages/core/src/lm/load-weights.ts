// Loads a causal LM's checkpoint tensors into its module tree as transformers' from_pretrained
// does for *ForCausalLM classes (modeling_utils.py): tied weights (`_tied_weights_keys`, e.g.
// lm_head.weight → the input embeddings) may be absent from the file; keys saved without the base
// model prefix (`base_model_prefix`, e.g. GPT-2's "transformer.") still find their parameter; keys
// the class ignores on load (`_keys_to_ignore_on_load_unexpected`) are dropped. Every problem is
// checked before anything is assigned; the assignment is io/module-tensors.ts loadTensorsIntoModule.
// bitsandbytes 4-bit weights (a checkpoint saved with load_in_4bit) go into their Linears first
// (quantized-weights.ts), held in 4 bits.
import { MmftError } from '../errors';
import type { SafetensorsTensor } from '../io/safetensors';
import { loadTensorsIntoModule } from '../io/module-tensors';
import type { AnyModule } from '../nn/module';
import { listNames } from '../nn/naming';
import { takeQuantizedLinears } from './quantized-weights';

/** Options of `loadCausalLmWeights`. */
export interface LoadCausalLmWeightsOptions {
  /**
   * Tied parameter → its source (`{ 'lm_head.weight': 'model.decoder.embed_tokens.weight' }`).
   * Where the module tree shares one variable under both names (TiedLinear) the source's tensor
   * fills it and a stored copy of the tied name is only shape-checked; where they are separate
   * variables (an untied head) a tied name absent from the file is filled with the source's values.
   */
  readonly tied?: Readonly<Record<string, string>>;
  /** List tensors the model does not know instead of failing (LoadOptions.ignoreUnexpected). */
  readonly ignoreUnexpected?: boolean;
  /** Unexpected tensors dropped silently (buffers older transformers saved: `attn.bias`, `rotary_emb.inv_freq`). */
  readonly ignorePatterns?: readonly RegExp[];
  /** The base model's prefix ("model", "transformer"): file keys without it still load. */
  readonly basePrefix?: string;
  /** The file each tensor came from (CausalLmFolder.tensorFiles), named in errors. */
  readonly tensorFiles?: ReadonlyMap<string, string>;
  /** Where missing tensors were looked for ("<dir>/model.safetensors"), named in errors. */
  readonly source?: string;
  /** The model class, named in errors ("OPTForCausalLM"). */
  readonly modelName?: string;
}

/** What the load did besides assigning tensors by name. */
export interface LoadCausalLmWeightsResult {
  /** File tensors the model does not know (only with ignoreUnexpected; ignorePatterns matches are not listed). */
  readonly unexpected: string[];
  /** Tied names absent from the file, filled from their source. */
  readonly tiedFromSource: string[];
  /** Modules whose weight the file stores in bitsandbytes 4-bit, now held so. */
  readonly quantized: string[];
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Assigns `tensors` (a checkpoint's, by HF state-dict name) to `root`'s parameters. A missing
 * tensor, a mis-shaped one, or (without ignoreUnexpected) an unknown one is an E_CHECKPOINT error
 * naming each tensor, its file and both shapes; nothing is assigned then.
 *
 * @example
 * const folder = await loadCausalLmFolder(dir, { modelName: 'GPT-2' });
 * loadCausalLmWeights(model.root, folder.tensors, {
 *   tied: { 'lm_head.weight': 'transformer.wte.weight' }, basePrefix: 'transformer', tensorFiles: folder.tensorFiles,
 * });
 */
export function loadCausalLmWeights(
  root: AnyModule,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  options: LoadCausalLmWeightsOptions = {},
): LoadCausalLmWeightsResult {
  const { rest, quantized } = takeQuantizedLinears(root, tensors, options);
  const params = root.stateDict();
  const owner = options.modelName ?? root.constructor.name;
  const fileOf = (name: string) => options.tensorFiles?.get(name) ?? options.source ?? 'the checkpoint';

  // File name → model name (the base prefix restored where the model needs it).
  const byModelName = new Map<string, { tensor: SafetensorsTensor; fileName: string }>();
  const ignored = (name: string) => options.ignorePatterns?.some((p) => p.test(name)) ?? false;
  for (const [fileName, tensor] of rest) {
    const prefixed = options.basePrefix ? `${options.basePrefix}.${fileName}` : undefined;
    const name = !params.has(fileName) && prefixed && params.has(prefixed) ? prefixed : fileName;
    if (!params.has(name) && ignored(fileName)) continue;
    byModelName.set(name, { tensor, fileName });
  }

  const sharedTied = new Set<string>();
  const tiedFromSource: string[] = [];
  const misShaped: string[] = [];
  for (const [target, source] of Object.entries(options.tied ?? {})) {
    const targetVar = params.get(target);
    const sourceVar = params.get(source);
    if (!targetVar || !sourceVar) {
      const absent = !targetVar ? target : source;
      throw new MmftError('E_CONFIG', `${owner}: the tie ${target} → ${source} names "${absent}", which the model has no parameter for`);
    }
    const stored = byModelName.get(target);
    if (!stored && byModelName.has(source)) tiedFromSource.push(target);
    if (targetVar === sourceVar) {
      // One variable: the source's tensor fills it; a stored copy of the tied name is only checked.
      sharedTied.add(target);
      byModelName.delete(target);
      if (stored && !byModelName.has(source))
        byModelName.set(source, stored); // only the tied copy was saved
      else if (stored && !sameShape(stored.tensor.shape, targetVar.shape)) {
        const file = fileOf(stored.fileName);
        misShaped.push(`${target}: the model has ${shapeText(targetVar.shape)}, ${file} has ${shapeText(stored.tensor.shape)}`);
      }
    } else if (!stored && byModelName.has(source)) {
      byModelName.set(target, byModelName.get(source)!);
    }
  }

  const missing = [...params]
    .filter(([name]) => !sharedTied.has(name) && !byModelName.has(name))
    .map(([name, v]) => `${name} ${shapeText(v.shape)}`);
  for (const [name, { tensor, fileName }] of byModelName) {
    const variable = params.get(name);
    if (variable && !sameShape(variable.shape, tensor.shape)) {
      misShaped.push(`${name}: the model has ${shapeText(variable.shape)}, ${fileOf(fileName)} has ${shapeText(tensor.shape)}`);
    }
  }
  const unexpected = [...byModelName].filter(([name]) => !params.has(name)).map(([, { fileName }]) => fileName);
  const strictUnexpected = !options.ignoreUnexpected && unexpected.length > 0;
  if (missing.length > 0 || misShaped.length > 0 || strictUnexpected) {
    const lines = [`${owner}: the checkpoint does not fit the model`];
    if (missing.length) lines.push(`  missing (${missing.length}) from ${options.source ?? 'the checkpoint'}: ${listNames(missing)}`);
    if (misShaped.length) lines.push(`  wrong shape (${misShaped.length}): ${listNames(misShaped, 10)}`);
    if (strictUnexpected) {
      const where = unexpected.map((name) => `${name} (${fileOf(name)})`);
      lines.push(`  unexpected (${unexpected.length}): ${listNames(where)}`);
    }
    throw new MmftError('E_CHECKPOINT', lines.join('\n'), {
      hint: misShaped.length
        ? 'the checkpoint was made for a model of another size: check config.json against the weights'
        : missing.length
          ? 'the weights are incomplete or belong to another architecture: check config.json "model_type" and every shard'
          : 'load with ignoreUnexpected to skip tensors the model does not use',
    });
  }
  const known = new Map([...byModelName].filter(([name]) => params.has(name)).map(([name, { tensor }]) => [name, tensor]));
  loadTensorsIntoModule(root, known, { strict: false });
  return { unexpected, tiedFromSource, quantized };
}
