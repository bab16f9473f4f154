// `mmft data validate|split|stats` (+ `shapes` from data-shapes.ts): the data tools on top of
// @mmft/data-jsonl, which runs one shared check for all three (docs/data.md). validate prints each
// issue as file:line as it is found, then a summary table (or one JSON document with --json) and
// fails when any error was found. Files are checked as splits of one dataset only with --splits.
import { Command, InvalidArgumentError, Option } from 'commander';
import { MmftError, type TaskKind } from '@mmft/core';
import { formatIssue, formatReport, formatStats, splitFile, TASKS, validateFiles, type ValidationReport } from '@mmft/data-jsonl';
import type { CliContext } from '../context';
import { dataPreviewCommand } from './data-preview';
import { dataShapesCommand } from './data-shapes';
import { dataSynthCommand } from './data-synth';
import { dataManifestCommand } from './data-manifest';

interface ValidateFlags {
  task?: TaskKind;
  fix?: string;
  redactPii?: boolean;
  acceptDataChange?: boolean;
  json?: boolean;
  allowOutsideRoot?: boolean;
  root?: string;
  splits?: string[];
  maxAnswerShare: number;
  maxIssues: number;
}

const number =
  (flag: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const taskOption = () => new Option('--task <task>', 'task format (detected from the first record when absent)').choices(TASKS);

/** The files to read and whether they are the splits of one dataset (leakage is checked). */
function inputs(command: string, files: readonly string[], splits: readonly string[] | undefined): { files: string[]; splits: boolean } {
  if (splits && files.length > 0) {
    throw new MmftError(
      'E_INPUT',
      `give the data files either as arguments (each checked on its own) or with --splits (checked as the splits of one dataset), not both`,
      {
        hint: `mmft data ${command} --splits ${[...files, ...splits].join(',')}`,
      },
    );
  }
  const all = [...(splits ?? files)];
  if (all.length === 0)
    throw new MmftError('E_INPUT', 'no data file given', {
      hint: `mmft data ${command} train.jsonl, or --splits train.jsonl,val.jsonl,test.jsonl`,
    });
  return { files: all, splits: splits !== undefined };
}
const splitsOption = () =>
  new Option(
    '--splits <files>',
    'comma-separated split files (train.jsonl,val.jsonl,test.jsonl): also checked for an image in two splits (leakage)',
  ).argParser(list);
const rootOption = () => new Option('--root <dir>', "folder images must stay inside (default: each data file's folder)");
const outsideOption = () => new Option('--allow-outside-root', 'accept absolute image paths and paths leaving the data folder');

function finish(ctx: CliContext, report: ValidationReport, json: boolean | undefined): void {
  if (json) ctx.print(JSON.stringify(report, null, 2));
  else formatReport(report).forEach((line) => ctx.print(line));
  if (report.errors > 0) {
    throw new MmftError(
      'E_DATA',
      `validation failed: ${report.errors} error${report.errors === 1 ? '' : 's'} in ${report.files.map((f) => f.file).join(', ')}`,
      {
        hint: 'fix the lines listed above, or write a cleaned copy with --fix OUT',
      },
    );
  }
}

function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description(
      'check data files (JSONL, LLaVA-style JSON arrays, dataset_info.json#entry): JSON, fields, image placeholders, images (decoded), UTF-8, duplicates, split leakage, answer balance, personal data, manifests; exit 1 on errors',
    )
    .argument('[files...]', 'data files, each checked on its own (use --splits for the splits of one dataset)')
    .addOption(taskOption())
    .option(
      '--fix <out>',
      "write the lines without problems to OUT (image paths rewritten for OUT's folder) and every dropped line to OUT.rejects.jsonl (input untouched)",
    )
    .option(
      '--redact-pii',
      'with --fix: replace personal data in kept lines by [EMAIL], [PHONE], … and copy images with GPS/serial metadata without it (OUT.changes.jsonl lists each change)',
    )
    .option('--accept-data-change', 'report a data file that no longer matches its <file>.manifest.json as a warning instead of an error')
    .option('--json', 'print the report as one JSON document')
    .addOption(outsideOption())
    .addOption(rootOption())
    .addOption(splitsOption())
    .option('--max-answer-share <x>', 'warn when one VQA answer exceeds this share of answers', number('--max-answer-share', 0, 1), 0.5)
    .option('--max-issues <n>', 'issues listed (all are counted)', number('--max-issues', 0, Number.MAX_SAFE_INTEGER), 1000)
    .action(async (files: string[], flags: ValidateFlags) => {
      let printed = 0;
      const input = inputs('validate', files, flags.splits);
      const report = await validateFiles(input.files, {
        cwd: ctx.cwd,
        splits: input.splits,
        task: flags.task,
        fix: flags.fix,
        redactPii: flags.redactPii,
        dataManifest: flags.acceptDataChange ? 'accept' : 'check',
        root: flags.root,
        allowOutsideRoot: flags.allowOutsideRoot,
        maxAnswerShare: flags.maxAnswerShare,
        maxIssues: flags.maxIssues,
        onIssue: (issue) => {
          if (!flags.json && printed < flags.maxIssues) ctx.print(formatIssue(issue));
          printed += 1;
        },
      });
      finish(ctx, report, flags.json);
    });
}

function splitCommand(ctx: CliContext): Command {
  return new Command('split')
    .description('split a JSONL file into train/val/test by image content hash (no image in two splits), deterministic by seed')
    .argument('<file>', 'JSONL file to split')
    .option('--ratios <train,val,test>', 'shares of records per split, summing to 1', '0.8,0.1,0.1')
    .option('--seed <n>', 'seed of the image order', number('--seed', 0, 2 ** 31 - 1), 0)
    .option('--out-dir <dir>', "output folder: the input's folder (default) or one above it, image paths rewritten (see --root)")
    .addOption(taskOption())
    .addOption(outsideOption())
    .addOption(rootOption())
    .option('--force', 'overwrite existing split files')
    .action(
      async (
        file: string,
        flags: {
          ratios: string;
          seed: number;
          outDir?: string;
          task?: TaskKind;
          root?: string;
          allowOutsideRoot?: boolean;
          force?: boolean;
        },
      ) => {
        const ratios = list(flags.ratios).map(Number);
        if (ratios.length !== 3 || ratios.some((r) => !Number.isFinite(r))) {
          throw new MmftError('E_INPUT', `--ratios "${flags.ratios}" must be three numbers train,val,test`, {
            hint: '--ratios 0.8,0.1,0.1',
          });
        }
        const result = await splitFile(file, { ...flags, cwd: ctx.cwd, ratios: ratios as [number, number, number] });
        for (const o of result.outputs)
          ctx.print(`${o.name.padEnd(5)}  ${String(o.records).padStart(8)} records  ${String(o.images).padStart(7)} images  ${o.file}`);
      },
    );
}

function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('counts, text lengths, image sizes and VQA answer frequencies of JSONL data files')
    .argument('[files...]', 'JSONL files, each read on its own (use --splits for the splits of one dataset)')
    .addOption(taskOption())
    .option('--json', 'print the statistics as JSON')
    .addOption(outsideOption())
    .addOption(rootOption())
    .addOption(splitsOption())
    .action(
      async (files: string[], flags: { task?: TaskKind; json?: boolean; root?: string; allowOutsideRoot?: boolean; splits?: string[] }) => {
        const input = inputs('stats', files, flags.splits);
        const leaked = new Map<string, number>();
        // Image headers only: stats need sizes, not a full decode (that is validate's job).
        const report = await validateFiles(input.files, {
          cwd: ctx.cwd,
          splits: input.splits,
          task: flags.task,
          root: flags.root,
          allowOutsideRoot: flags.allowOutsideRoot,
          imageMode: 'header',
          // Statistics only: personal data and manifests are validate's findings.
          personalData: false,
          dataManifest: 'ignore',
          maxIssues: 0,
          onIssue: (issue) => void (issue.code === 'leakage' && leaked.set(issue.file, (leaked.get(issue.file) ?? 0) + 1)),
        });
        if (flags.json) ctx.print(JSON.stringify(report.files, null, 2));
        else formatStats(report.files).forEach((line) => ctx.print(line));
        if (flags.json) return;
        for (const [file, n] of leaked)
          ctx.print(`\n${file}: ${n} line${n === 1 ? ' uses' : 's use'} an image of an earlier split (leakage)`);
        if (report.errors > 0)
          ctx.print(`\nnote: ${report.errors} lines have errors and are not counted; run mmft data validate for details`);
      },
    );
}

/**
 * The `mmft data` command.
 *
 * @example
 * mmft data validate train.jsonl --fix clean.jsonl
 * mmft data validate --splits train.jsonl,val.jsonl,test.jsonl
 * mmft data split all.jsonl --ratios 0.8,0.1,0.1 --seed 0
 * mmft data stats --splits train.jsonl,val.jsonl
 */
export function dataCommand(ctx: CliContext): Command {
  // addCommand() does not pass the parent's output settings down: route usage errors to ctx.
  const output = { writeOut: (text: string) => void ctx.stdout.write(text), writeErr: (text: string) => void ctx.stderr.write(text) };
  const data = new Command('data').description('data tools: validate, split, stats, shapes, synth, preview').configureOutput(output);
  for (const sub of [
    validateCommand(ctx),
    splitCommand(ctx),
    statsCommand(ctx),
    dataShapesCommand(ctx),
    dataPreviewCommand(ctx),
    dataSynthCommand(ctx),
    dataManifestCommand(ctx),
  ]) {
    data.addCommand(sub.exitOverride().configureOutput(output).showHelpAfterError('(run with --help for usage)'));
  }
  return data;
}
