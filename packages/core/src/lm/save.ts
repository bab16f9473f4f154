// Writes a causal-LM folder in the layout transformers' save_pretrained produces: config.json,
// generation_config.json, model.safetensors (F32, metadata {"format": "pt"}) and the tokenizer
// files byte for byte, through core's atomic folder writer (io/folder-write.ts) after the
// output-folder check (io/output-folder.ts), as arch-clip's save-checkpoint.ts does. A tied
// weight that shares its variable with its source is not written: save_pretrained drops such
// shared tensors (modeling_utils.py, "Removed shared tensor ... while saving") and from_pretrained
// ties them again on load. Linear weights held in bitsandbytes 4-bit are written in its layout, with
// config.json's quantization_config (quantized-weights.ts).
import { join } from 'node:path';
import type { SaveOptions } from '../contracts/architecture';
import { hfJson } from '../hf/hfjson';
import { writeFileDurable, writeFolder } from '../io/folder-write';
import { tensorsFromModule } from '../io/module-tensors';
import { checkOutputFolder } from '../io/output-folder';
import { writeSafetensors, type WritableTensor } from '../io/safetensors-write';
import type { AnyModule } from '../nn/module';
import { quantizationConfigOf, quantizedLinearTensors } from './quantized-weights';

/** Everything a causal-LM folder holds. */
export interface CausalLmFolderContents {
  readonly root: AnyModule;
  /** config.json as written (architectures, model_type, torch_dtype, transformers_version included). */
  readonly config: Readonly<Record<string, unknown>>;
  /** generation_config.json; not written when absent or empty. */
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  /** Tokenizer files by name, written unchanged. */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /** Tied parameter → source, as given to loadCausalLmWeights. */
  readonly tied?: Readonly<Record<string, string>>;
}

/**
 * The tensors save_pretrained would write for `root`: every parameter by name, except names that
 * share a variable with an earlier-kept name (tied names are the ones dropped).
 *
 * @example
 * const tensors = await causalLmTensors(model.root, { 'lm_head.weight': 'transformer.wte.weight' });
 * tensors.has('lm_head.weight'); // false when the head shares the embedding's variable
 */
export async function causalLmTensors(root: AnyModule, tied: Readonly<Record<string, string>> = {}): Promise<Map<string, WritableTensor>> {
  const all = await tensorsFromModule(root, { quantizedWrittenByCaller: true });
  const names = new Map<unknown, string[]>();
  for (const [name, variable] of root.stateDict()) names.set(variable, [...(names.get(variable) ?? []), name]);
  for (const group of names.values()) {
    if (group.length < 2) continue;
    // Keep one name per shared variable, preferring a name that is not itself a tied copy.
    const keep = group.find((name) => !(name in tied)) ?? group[0];
    for (const name of group) if (name !== keep) all.delete(name);
  }
  for (const [name, tensor] of quantizedLinearTensors(root)) all.set(name, tensor);
  return all;
}

/**
 * Saves `contents` to `dir`, replacing a model folder mmft wrote there as a whole; any other
 * non-empty folder is refused unless `options.force`.
 *
 * @example
 * await saveCausalLmFolder('out/opt', { root, config: configJson, generationConfig, tokenizerFiles, tied });
 */
export async function saveCausalLmFolder(dir: string, contents: CausalLmFolderContents, options: SaveOptions = {}): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const weights = await causalLmTensors(contents.root, contents.tied);
  await writeFolder(
    dir,
    async (staged) => {
      const quantization = quantizationConfigOf(contents.root);
      const config = quantization ? { ...contents.config, quantization_config: quantization } : contents.config;
      await writeFileDurable(join(staged, 'config.json'), hfJson(config));
      const generation = contents.generationConfig;
      if (generation && Object.keys(generation).length > 0)
        await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
      await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
      for (const [name, bytes] of contents.tokenizerFiles ?? []) await writeFileDurable(join(staged, name), bytes);
    },
    { kind: 'model' },
  );
}
