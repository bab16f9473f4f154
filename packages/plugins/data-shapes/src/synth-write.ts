// Writes synthesised conversations as LLaVA JSON (LLaVA:docs/Finetune_Custom_Data.md: an array of
// {id, image, conversations: [{from: human|gpt, value}]}) plus a `provenance` per record, next to the
// rendered images. One record per line inside the array, so a validator can point at a line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import { languagesOf, shapesConfigSchema, type ShapesConfigInput } from './config';
import { imagePathOf, renderSamples } from './generate';
import type { Scene } from './scene';
import { synthConversation, SYNTH_TEMPLATES, type SynthTemplate } from './synth';

export interface SynthProvenance {
  /** The annotation the record was made from: here the shapes scene id. */
  readonly source: string;
  readonly template: string;
  readonly seed: number;
  readonly lang: string;
}

export interface LlavaRecord {
  readonly id: string;
  readonly image: string;
  readonly conversations: readonly { readonly from: 'human' | 'gpt'; readonly value: string }[];
  readonly provenance: SynthProvenance;
}

export interface SynthRecordOptions {
  readonly templates: readonly SynthTemplate[];
  readonly langs: readonly ('en' | 'zh')[];
  readonly seed: number;
}

/** Identity of a record for deduplication: its image and every turn, whitespace-normalised. */
export const dedupKey = (record: Pick<LlavaRecord, 'image' | 'conversations'>): string =>
  JSON.stringify([record.image, record.conversations.map((t) => [t.from, t.value.replace(/\s+/g, ' ').trim()])]);

/**
 * The records of one scene, template by template then language; `seen` (shared across scenes)
 * drops a conversation already written for the same image.
 *
 * @example
 * synthRecordsOf(scene, 'images/000003.png', 'shapes-B-000003', { templates: ['count'], langs: ['en'], seed: 0 }, new Set());
 */
export function synthRecordsOf(scene: Scene, image: string, source: string, options: SynthRecordOptions, seen: Set<string>): LlavaRecord[] {
  const out: LlavaRecord[] = [];
  for (const template of options.templates) {
    for (const lang of options.langs) {
      const conversation = synthConversation(scene, template, lang, options.seed);
      const record: LlavaRecord = {
        id: `${source}-${template}-${lang}`,
        image,
        conversations: conversation.turns.map((t) => ({ from: t.role === 'user' ? 'human' : 'gpt', value: t.content })),
        provenance: { source, template, seed: options.seed, lang },
      };
      const key = dedupKey(record);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(record);
    }
  }
  return out;
}

export interface SynthShapesOptions extends Omit<ShapesConfigInput, 'task' | 'questionsPerImage' | 'templates'> {
  /** Templates to use (default: all), each once per image and language. */
  readonly templates?: readonly SynthTemplate[];
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SynthShapesResult {
  readonly images: number;
  readonly records: number;
  /** Conversations dropped as duplicates of one already written for the same image. */
  readonly duplicates: number;
  readonly file: string;
}

export const SYNTH_FILE = 'llava.json';

/**
 * Render `n` scenes into `outDir/images/` and write their conversations to `outDir/llava.json`.
 *
 * @example
 * await writeShapesSynth('data/synth-b', { n: 200, domain: 'B', lang: 'both', seed: 0 });
 */
export async function writeShapesSynth(outDir: string, options: SynthShapesOptions = {}): Promise<SynthShapesResult> {
  const { templates = SYNTH_TEMPLATES, onProgress, ...rest } = options;
  const unknown = templates.filter((t) => !(SYNTH_TEMPLATES as readonly string[]).includes(t));
  if (unknown.length > 0 || templates.length === 0) {
    throw new MmftError('E_CONFIG', `unknown synthesis template ${unknown.map((t) => `"${t}"`).join(', ') || '(none given)'}`, {
      hint: `templates: ${SYNTH_TEMPLATES.join(', ')}`,
    });
  }
  const config = shapesConfigSchema.parse(rest);
  const file = path.join(outDir, SYNTH_FILE);
  try {
    fs.mkdirSync(path.join(outDir, 'images'), { recursive: true });
  } catch (cause) {
    throw new MmftError('E_IO', `cannot create the output folder ${outDir}: ${(cause as Error).message}`, { cause });
  }
  const seen = new Set<string>();
  const options_ = { templates, langs: languagesOf(config.lang), seed: config.seed };
  const lines: string[] = [];
  let done = 0;
  let made = 0;
  for await (const sample of renderSamples(config, [...Array(config.n).keys()])) {
    await fs.promises.writeFile(path.join(outDir, sample.imagePath), sample.png);
    const source = `shapes-${config.domain}-${String(sample.index).padStart(6, '0')}`;
    made += templates.length * options_.langs.length;
    for (const record of synthRecordsOf(sample.scene, imagePathOf(sample.index), source, options_, seen))
      lines.push(JSON.stringify(record));
    onProgress?.(++done, config.n);
  }
  await fs.promises.writeFile(file, lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`);
  return { images: config.n, records: lines.length, duplicates: made - lines.length, file };
}
