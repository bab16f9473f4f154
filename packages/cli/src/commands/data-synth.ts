// `mmft data synth`: instruction conversations from annotations, written as LLaVA JSON with a
// provenance per record (docs/data.md "Synthesising instruction data"). Without files it renders
// shapes scenes and words their ground truth (@mmft/data-shapes, into a dataset folder swapped into
// place like `mmft data shapes`); with caption, VQA or detection JSONL files it converts their annotations
// (@mmft/data-jsonl) into one JSON file whose image paths are relative to that file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { checkOutputFolder, MmftError, writeFolder } from '@mmft/core';
import { ANNOTATION_TEMPLATES, llavaJson, synthFromAnnotations, type AnnotationTemplate } from '@mmft/data-jsonl';
import { shapesConfigSchema, SYNTH_FILE, SYNTH_TEMPLATES, writeShapesSynth, type SynthTemplate } from '@mmft/data-shapes';
import { hashFile, writeDataManifest } from '@mmft/core/trust';
import type { CliContext } from '../context';

interface SynthFlags {
  out: string;
  seed: number;
  templates?: string[];
  n: number;
  domain: string;
  lang: string;
  size: number;
  root?: string;
  allowOutsideRoot?: boolean;
  force?: boolean;
}

const integer =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got "${value}"`);
    return Number(value);
  };
const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function checkTemplates(given: readonly string[] | undefined, known: readonly string[], source: string): void {
  const unknown = (given ?? []).filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new MmftError('E_INPUT', `--templates: unknown template ${unknown.map((t) => `"${t}"`).join(', ')} for ${source}`, {
      hint: `templates for ${source}: ${known.join(', ')}`,
    });
}

async function fromShapes(ctx: CliContext, flags: SynthFlags): Promise<void> {
  checkTemplates(flags.templates, SYNTH_TEMPLATES, 'shapes scenes');
  const parsed = shapesConfigSchema.safeParse({
    n: flags.n,
    domain: flags.domain,
    lang: flags.lang,
    seed: flags.seed,
    imageSize: flags.size,
  });
  if (!parsed.success) {
    const flag: Record<string, string> = { imageSize: 'size' };
    const issues = parsed.error.issues.map((i) => `--${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
    throw new MmftError('E_INPUT', `mmft data synth: ${issues.join('; ')}`, { hint: 'see mmft data synth --help' });
  }
  const out = path.resolve(ctx.cwd, flags.out);
  checkOutputFolder(out, { kind: 'dataset', flag: '--out', force: flags.force });
  let result: Awaited<ReturnType<typeof writeShapesSynth>> | undefined;
  await writeFolder(
    out,
    async (staged) => {
      result = await writeShapesSynth(staged, { ...parsed.data, templates: flags.templates as SynthTemplate[] | undefined });
      // The manifest records how the data was made (the seed and settings regenerate it byte for byte).
      const { n, seed, domain, lang, imageSize } = parsed.data;
      await writeDataManifest(path.join(staged, SYNTH_FILE), {
        source: { generator: 'mmft data synth (shapes)', seed, n, domain, lang, imageSize, templates: flags.templates ?? null },
      });
    },
    { kind: 'dataset' },
  );
  if (!result) return;
  ctx.print(`wrote ${result.records} conversations about ${result.images} images to ${path.join(out, SYNTH_FILE)}`);
  ctx.print(`  duplicates dropped: ${result.duplicates}`);
}

async function fromFiles(ctx: CliContext, files: readonly string[], flags: SynthFlags, shapesOnly: string[]): Promise<void> {
  if (shapesOnly.length > 0)
    throw new MmftError('E_INPUT', `${shapesOnly.join(', ')} only apply to shapes scenes (no files given), not to annotation files`, {
      hint: `mmft data synth ${files.join(' ')} --out synth.json`,
    });
  checkTemplates(flags.templates, ANNOTATION_TEMPLATES, 'caption/VQA files');
  const out = path.resolve(ctx.cwd, flags.out);
  if (fs.existsSync(out) && !flags.force)
    throw new MmftError('E_INPUT', `--out ${flags.out} exists`, { hint: 'pass --force to replace it, or choose another --out file' });
  const { records, duplicates } = await synthFromAnnotations(
    files.map((f) => path.resolve(ctx.cwd, f)),
    {
      out,
      seed: flags.seed,
      templates: flags.templates as AnnotationTemplate[] | undefined,
      root: flags.root,
      allowOutsideRoot: flags.allowOutsideRoot,
    },
  );
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // written beside and renamed over, so an interrupted run never leaves half a JSON array
  const staged = `${out}.partial`;
  fs.writeFileSync(staged, llavaJson(records));
  fs.renameSync(staged, out);
  await writeDataManifest(out, {
    source: {
      generator: 'mmft data synth (annotations)',
      seed: flags.seed,
      templates: flags.templates ?? null,
      inputs: await Promise.all(
        files.map(async (f) => ({ path: path.resolve(ctx.cwd, f), sha256: (await hashFile(path.resolve(ctx.cwd, f))).sha256 })),
      ),
    },
  });
  const per = new Map<string, number>();
  for (const r of records) per.set(r.provenance.template, (per.get(r.provenance.template) ?? 0) + 1);
  ctx.print(`wrote ${records.length} conversations to ${out}`);
  for (const [template, n] of per) ctx.print(`  ${template.padEnd(12)} ${n}`);
  ctx.print(`  duplicates dropped: ${duplicates}`);
}

/**
 * The `synth` subcommand of `mmft data`.
 *
 * @example
 * mmft data synth --out data/synth-b --n 500 --domain B --lang both --seed 0
 * mmft data synth captions.jsonl vqa.jsonl --out synth.json --templates describe,vqa,multi-turn
 */
export function dataSynthCommand(ctx: CliContext): Command {
  const command: Command = new Command('synth')
    .description(
      'synthesise instruction conversations (LLaVA JSON + provenance) from shapes scenes, or from caption/VQA/detection JSONL files',
    )
    .argument('[files...]', 'caption/VQA JSONL files to convert (none: render shapes scenes and describe their ground truth)')
    .requiredOption('--out <path>', 'output: a folder for shapes scenes (llava.json + images/), a JSON file for annotation files')
    .option('--seed <n>', 'seed of the scenes and of every wording choice', integer('--seed'), 0)
    .option(
      '--templates <list>',
      `comma-separated templates (shapes: ${SYNTH_TEMPLATES.join(', ')}; files: ${ANNOTATION_TEMPLATES.join(', ')})`,
      list,
    )
    .option('--n <count>', 'shapes: number of images', integer('--n'), 200)
    .option('--domain <A|B>', 'shapes: visual domain', 'A')
    .option('--lang <en|zh|both>', 'shapes: language of the conversations', 'en')
    .option('--size <px>', 'shapes: image side in pixels', integer('--size'), 64)
    .option('--root <dir>', "files: folder images must stay inside (default: each data file's folder)")
    .option('--allow-outside-root', 'files: accept absolute image paths and paths leaving the data folder')
    .option('--force', 'replace an --out that mmft did not write')
    .action(async (files: string[], flags: SynthFlags) => {
      if (files.length === 0) return fromShapes(ctx, flags);
      const shapesOnly = ['n', 'domain', 'lang', 'size'].filter((o) => command.getOptionValueSource(o) === 'cli').map((o) => `--${o}`);
      return fromFiles(ctx, files, flags, shapesOnly);
    });
  return command;
}
