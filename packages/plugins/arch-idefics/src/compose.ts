// A fresh IDEFICS composed from part folders, as Flamingo is built: a pretrained CLIP vision
// encoder and a pretrained language model, both kept, with a new Perceiver resampler and new gated
// cross-attention blocks whose tanh gates start at zero (open_flamingo/src/factory.py
// create_model_and_transforms; HuggingFaceM4's IDEFICS was built the same way from CLIP ViT-H and
// LLaMA, transformers src/transformers/models/idefics/modeling_idefics.py). The parts load through
// the plugins of their model_type; the IdeficsConfig takes vision_config and the top-level text
// fields from them under the section's explicit fields, as LLaVA's init does
// (packages/plugins/arch-llava/src/compose.ts). IDEFICS's decoder is multi-head: a grouped-query
// Llama is converted exactly by repeating each kv head's k_proj/v_proj rows (added-token.ts).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ArchitectureContext, type VisionLanguageModel } from '@mmft/core';
import { appendMeanRows, findTokenId, readHfFolder, readTokenizerFiles, withAddedSpecialToken } from '@mmft/core/hf';
import { repeatKvRows } from './added-token';
import type { IdeficsConfigInput } from './config';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';
import type { IdeficsInit } from './init-schema';

export const IMAGE_TOKEN = '<image>';

/** What `composeIdefics` did, per part. */
export interface IdeficsComposeReport {
  readonly vision?: { readonly dir: string; readonly copied: number };
  readonly languageModel?: {
    readonly dir: string;
    readonly copied: number;
    /** kv heads before the repeat (equal to the heads when the Llama was multi-head already). */
    readonly kvHeads: number;
    /** `<image>`'s id and whether it was added (one decoupled extra row). */
    readonly imageToken?: { readonly id: number; readonly added: boolean };
  };
}

import { isRecord, loadPart, textFieldsOf, visionFieldsOf, type Json } from './part-fields';
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

interface Write {
  readonly from: string;
  readonly part: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Bridge parameters: new, never copied from a part. */
const BRIDGE = /^model\.(perceiver_resampler|gated_cross_attn_layers)\./;

/**
 * Builds a fresh IDEFICS (resampler and gated blocks newly initialised, gates at
 * alpha_initializer, zeros by default) whose vision tower and language model are the `init`
 * folders'. `config` is the section's `config:` as written (before IdeficsConfig's defaults, which
 * would hide what the parts say); its explicit fields win over the parts'. When the Llama's
 * tokenizer has no `<image>` and `config.image_token_id` is not given, `<image>` is added as a
 * special token of id vocab_size, held in one decoupled extra row (additional_vocab_size 1) of the
 * embedding and of an untied lm_head, each the mean of the old rows. A tensor whose shape then
 * disagrees is an E_CHECKPOINT error naming it; the model is disposed on any failure.
 *
 * @example
 * const { model, report } = await composeIdefics({ use_resampler: true }, { vision: 'models/clip-shapes-base', language_model: 'models/llama-shapes-base' }, context);
 * report.languageModel?.imageToken; // { id: 654, added: true }
 */
export async function composeIdefics(
  config: Json | undefined,
  init: IdeficsInit,
  context: ArchitectureContext | undefined,
  options: { seed?: number; tokenizer?: string } = {},
): Promise<{ model: IdeficsForVisionText2Text; report: IdeficsComposeReport }> {
  if (!context) {
    throw new MmftError('E_CONFIG', 'model (idefics) init: the parts load through the plugin registry, and none was given', {
      hint: 'pass architectureContext(registry) as the context argument',
    });
  }
  const given: Json = { ...(config ?? {}) };
  for (const name of ['vision_config', 'perceiver_config']) {
    if (given[name] !== undefined && !isRecord(given[name])) throw new MmftError('E_CONFIG', `model.config.${name} must be an object`);
  }
  const out: Json = {};
  const parts: VisionLanguageModel[] = [];
  try {
    let vision: VisionLanguageModel | undefined;
    if (init.vision) {
      const folder = await readHfFolder(init.vision, { modelName: 'CLIP' });
      out.vision_config = { ...visionFieldsOf(folder.config, folder.modelType, init.vision), ...(given.vision_config as Json | undefined) };
      vision = await loadPart(context, 'clip_vision_model', init.vision, 'vision');
      parts.push(vision);
    }
    let lm: VisionLanguageModel | undefined;
    let text: ReturnType<typeof textFieldsOf> | undefined;
    let tokenizerFiles: Map<string, Uint8Array> | undefined;
    let imageToken: { id: number; added: boolean } | undefined;
    if (init.language_model) {
      const dir = init.language_model;
      const folder = await readHfFolder(dir, { modelName: 'Llama' });
      text = textFieldsOf(folder.config, dir);
      Object.assign(out, text.fields);
      lm = await loadPart(context, 'llama', dir, 'language_model');
      parts.push(lm);
      const vocab = text.fields.vocab_size as number;
      const tokenizerDir = options.tokenizer ?? dir;
      tokenizerFiles = await readTokenizerFiles(tokenizerDir);
      const tokenizerJson = tokenizerFiles.get('tokenizer.json');
      if (given.image_token_id === undefined && tokenizerJson) {
        const found = findTokenId(tokenizerJson, IMAGE_TOKEN, `${tokenizerDir}/tokenizer.json`);
        if (found.id !== undefined) imageToken = { id: found.id, added: false };
        else if (found.maxId >= vocab) {
          throw new MmftError(
            'E_CONFIG',
            `init.language_model: ${tokenizerDir}/tokenizer.json uses ids up to ${found.maxId} but ${dir} has ${vocab} embedding rows; cannot add ${IMAGE_TOKEN} at id ${vocab}`,
            { hint: `set model.config.image_token_id to an id whose embedding row exists, or use a tokenizer that has ${IMAGE_TOKEN}` },
          );
        } else {
          imageToken = { id: vocab, added: true };
          tokenizerFiles = withAddedSpecialToken(tokenizerFiles, IMAGE_TOKEN, vocab);
          out.additional_vocab_size = 1;
        }
      }
    }
    Object.assign(out, { ...given, ...(out.vision_config ? { vision_config: out.vision_config } : {}) });
    const processing = vision?.processor.imageProcessing;
    const size = (out.vision_config as Json | undefined)?.image_size;
    const model = await IdeficsForVisionText2Text.fromConfig(out as IdeficsConfigInput, context, {
      seed: options.seed,
      tokenizer: options.tokenizer ?? init.language_model,
      tokenizerFiles,
      // IdeficsImageProcessor resizes to image_size square with the tower's mean and std (preprocessor_config.json).
      imageProcessing:
        processing && typeof size === 'number' ? { size, cropSize: size, mean: processing.mean, std: processing.std } : undefined,
    });
    try {
      const report = copyParts(model, vision, lm, text, imageToken, init);
      return { model, report };
    } catch (error) {
      model.dispose();
      throw error;
    }
  } finally {
    for (const part of parts) part.dispose();
  }
}

/** The parts' tensors into the fresh model (k/v rows repeated, `<image>`'s mean row appended); every non-bridge tensor must be written. */
function copyParts(
  model: IdeficsForVisionText2Text,
  vision: VisionLanguageModel | undefined,
  lm: VisionLanguageModel | undefined,
  text: ReturnType<typeof textFieldsOf> | undefined,
  imageToken: { id: number; added: boolean } | undefined,
  init: IdeficsInit,
): IdeficsComposeReport {
  const variables = model.root.stateDict();
  const writes = new Map<string, Write>();
  const report: { vision?: IdeficsComposeReport['vision']; languageModel?: IdeficsComposeReport['languageModel'] } = {};
  if (vision) {
    const source = vision.root.stateDict();
    for (const [name, v] of source)
      writes.set(`model.${name}`, { from: name, part: init.vision!, shape: v.shape, data: v.dataSync() as Float32Array });
    report.vision = { dir: init.vision!, copied: source.size };
  }
  if (lm && text) {
    const source = lm.root.stateDict();
    const vocab = text.fields.vocab_size as number;
    for (const [name, v] of source) {
      let data = v.dataSync() as Float32Array;
      let shape = v.shape;
      if (text.kvHeads !== text.heads && /\.self_attn\.[kv]_proj\.weight$/.test(name)) {
        data = repeatKvRows(data, text.heads, text.kvHeads, text.headDim);
        shape = [text.heads * text.headDim, shape[1]!];
      }
      if (
        imageToken?.added &&
        shape.length === 2 &&
        shape[0] === vocab &&
        (name === 'model.embed_tokens.weight' || name === 'lm_head.weight')
      ) {
        data = appendMeanRows(data, vocab);
        shape = [vocab + 1, shape[1]!];
      }
      writes.set(name, { from: name, part: init.language_model!, shape, data });
    }
    report.languageModel = { dir: init.language_model!, copied: source.size, kvHeads: text.kvHeads, ...(imageToken ? { imageToken } : {}) };
  }
  for (const [name, w] of writes) {
    const variable = variables.get(name);
    if (!variable || BRIDGE.test(name))
      throw new MmftError('E_CHECKPOINT', `${w.part}: ${w.from} maps to ${name}, which this IDEFICS does not have`);
    if (variable.shape.length !== w.shape.length || variable.shape.some((d, i) => d !== w.shape[i])) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${w.part}: ${w.from} is ${shapeText(w.shape)} but ${name} of this IDEFICS is ${shapeText(variable.shape)}`,
        {
          hint: 'leave the shape fields (hidden_size, vision_config.image_size, vocab_size, ...) out of model.config so they come from the part folders',
        },
      );
    }
  }
  // A part given must fill its side completely, or the composed model would mix in random weights silently.
  for (const name of variables.keys()) {
    const side = name.startsWith('model.vision_model.') ? vision : BRIDGE.test(name) ? undefined : lm;
    if (side && !writes.has(name)) throw new MmftError('E_CHECKPOINT', `the parts hold no tensor for ${name} of this IDEFICS`);
  }
  for (const [name, w] of writes) {
    const variable = variables.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(w.data, [...w.shape], 'float32')));
  }
  return report;
}
