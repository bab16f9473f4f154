// `mmft data validate|split|stats` (+ `shapes` from data-shapes.ts): the data tools of issue 4 on
// top of @mmft/data-jsonl. validate prints each issue as file:line as it is found, then a summary
// table (or one JSON document with --json) and fails when any error was found.
import { Command, InvalidArgumentError, Option } from 'commander';
import { MmftError, type TaskKind } from '@mmft/core';
import { formatIssue, formatReport, formatStats, splitFile, TASKS, validateFiles, type ValidationReport } from '@mmft/data-jsonl';
import type { CliContext } from '../context';
import { dataShapesCommand } from './data-shapes';

interface ValidateFlags {
  task?: TaskKind;
  fix?: string;
  json?: boolean;
  allowOutsideRoot?: boolean;
  root?: string;
  splits?: string[];
  maxAnswerShare: number;
  maxIssues: number;
}

const number = (flag: string, min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number in [${min}, ${max}], got "${value}"`);
  return n;
};
const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);
const taskOption = () => new Option('--task <task>', 'task format (detected from the first record when absent)').choices(TASKS);

function inputs(files: readonly string[], splits: readonly string[] | undefined): string[] {
  const all = [...files, ...(splits ?? [])];
  if (all.length === 0) throw new MmftError('E_INPUT', 'no data file given', { hint: 'mmft data validate train.jsonl, or --splits train.jsonl,val.jsonl,test.jsonl' });
  return all;
}

function finish(ctx: CliContext, report: ValidationReport, json: boolean | undefined): void {
  if (json) ctx.print(JSON.stringify(report, null, 2));
  else formatReport(report).forEach((line) => ctx.print(line));
  if (report.errors > 0) {
    throw new MmftError('E_DATA', `validation failed: ${report.errors} error${report.errors === 1 ? '' : 's'} in ${report.files.map((f) => f.file).join(', ')}`, {
      hint: 'fix the lines listed above, or write a cleaned copy with --fix OUT',
    });
  }
}

function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description('check JSONL data files: JSON, fields, images (decoded), UTF-8, duplicates, split leakage, answer balance; exit 1 on errors')
    .argument('[files...]', 'JSONL files; several files are checked as splits of one dataset (leakage)')
    .addOption(taskOption())
    .option('--fix <out>', 'write the lines without problems to OUT and every dropped line to OUT.rejects.jsonl (input untouched)')
    .option('--json', 'print the report as one JSON document')
    .option('--allow-outside-root', 'accept absolute image paths and paths leaving the data folder')
    .option('--root <dir>', 'folder images must stay inside (default: each data file folder)')
    .option('--splits <files>', 'comma-separated split files (train.jsonl,val.jsonl,test.jsonl) checked for leakage', list)
    .option('--max-answer-share <x>', 'warn when one VQA answer exceeds this share of answers', number('--max-answer-share', 0, 1), 0.5)
    .option('--max-issues <n>', 'issues listed (all are counted)', number('--max-issues', 0, Number.MAX_SAFE_INTEGER), 1000)
    .action(async (files: string[], flags: ValidateFlags) => {
      let printed = 0;
      const report = await validateFiles(inputs(files, flags.splits), {
        cwd: ctx.cwd,
        task: flags.task,
        fix: flags.fix,
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
    .option('--out-dir <dir>', 'output folder (default: next to the input; image paths are rewritten)')
    .addOption(taskOption())
    .option('--allow-outside-root', 'accept absolute image paths and paths leaving the data folder')
    .option('--force', 'overwrite existing split files')
    .action(async (file: string, flags: { ratios: string; seed: number; outDir?: string; task?: TaskKind; allowOutsideRoot?: boolean; force?: boolean }) => {
      const ratios = list(flags.ratios).map(Number);
      if (ratios.length !== 3 || ratios.some((r) => !Number.isFinite(r))) {
        throw new MmftError('E_INPUT', `--ratios "${flags.ratios}" must be three numbers train,val,test`, { hint: '--ratios 0.8,0.1,0.1' });
      }
      const result = await splitFile(file, { ...flags, cwd: ctx.cwd, ratios: ratios as [number, number, number] });
      for (const o of result.outputs) ctx.print(`${o.name.padEnd(5)}  ${String(o.records).padStart(8)} records  ${String(o.images).padStart(7)} images  ${o.file}`);
    });
}

function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('counts, text lengths, image sizes and VQA answer frequencies of JSONL data files')
    .argument('<files...>', 'JSONL files')
    .addOption(taskOption())
    .option('--json', 'print the statistics as JSON')
    .option('--allow-outside-root', 'accept absolute image paths and paths leaving the data folder')
    .action(async (files: string[], flags: { task?: TaskKind; json?: boolean; allowOutsideRoot?: boolean }) => {
      // Image headers only: stats need sizes, not a full decode (that is validate's job).
      const report = await validateFiles(files, { cwd: ctx.cwd, task: flags.task, allowOutsideRoot: flags.allowOutsideRoot, imageMode: 'header', maxIssues: 0 });
      if (flags.json) ctx.print(JSON.stringify(report.files, null, 2));
      else formatStats(report.files).forEach((line) => ctx.print(line));
      if (report.errors > 0 && !flags.json) ctx.print(`\nnote: ${report.errors} lines have errors and are not counted; run mmft data validate for details`);
    });
}

/**
 * The `mmft data` command.
 *
 * @example
 * mmft data validate train.jsonl --fix clean.jsonl
 * mmft data validate --splits train.jsonl,val.jsonl,test.jsonl
 * mmft data split all.jsonl --ratios 0.8,0.1,0.1 --seed 0
 */
export function dataCommand(ctx: CliContext): Command {
  // addCommand() does not pass the parent's output settings down: route usage errors to ctx.
  const output = { writeOut: (text: string) => void ctx.stdout.write(text), writeErr: (text: string) => void ctx.stderr.write(text) };
  const data = new Command('data').description('data tools: validate, split, stats, shapes').configureOutput(output);
  for (const sub of [validateCommand(ctx), splitCommand(ctx), statsCommand(ctx), dataShapesCommand(ctx)]) {
    data.addCommand(sub.exitOverride().configureOutput(output).showHelpAfterError('(run with --help for usage)'));
  }
  return data;
}
