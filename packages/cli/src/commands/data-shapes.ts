// `mmft data shapes`: writes the embedded shapes dataset (JSONL per task + images/) for a domain,
// language and seed, as one folder swapped into place (core's writeFolder; --out follows the
// output-folder rule: a dataset folder mmft wrote is replaced, anything else needs --force). Progress is a cli-progress bar with ETA and images/s on a terminal, plain
// lines otherwise (logs and CI stay readable).
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import type { TaskKind } from '@mmft/core';
import { checkOutputFolder, MmftError, writeFolder } from '@mmft/core';
import { shapesConfigSchema, SHAPES_TASKS, TASK_FILES, writeShapesDataset } from '@mmft/data-shapes';
import type { CliContext } from '../context';

interface ShapesOptions {
  out: string;
  n: number;
  domain: string;
  lang: string;
  seed: number;
  size: number;
  tasks: string[];
  force?: boolean;
}

const integer =
  (flag: string) =>
  (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
    return Number(value);
  };

function progressReporter(ctx: CliContext, total: number): { tick: (done: number) => void; stop: () => void } {
  if (ctx.isTTY) {
    const bar = new SingleBar({
      format: 'shapes [{bar}] {value}/{total} images | {rate} img/s | ETA {eta_formatted}',
      stream: ctx.stderr as NodeJS.WriteStream,
    });
    const start = Date.now();
    bar.start(total, 0, { rate: '0' });
    return {
      tick: (done) => bar.update(done, { rate: (done / Math.max((Date.now() - start) / 1000, 1e-3)).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  const step = Math.max(1, Math.ceil(total / 10)); // about ten lines, whatever n is
  return {
    tick: (done) => (done % step === 0 || done === total ? ctx.print(`shapes: ${done}/${total} images`) : undefined),
    stop: () => undefined,
  };
}

/**
 * The `shapes` subcommand of `mmft data`.
 *
 * @example
 * mmft data shapes --out data/shapes-b --n 5000 --domain B --lang zh
 */
export function dataShapesCommand(ctx: CliContext): Command {
  return new Command('shapes')
    .description('generate the shapes dataset: captions/vqa/retrieval/instruction JSONL + PNG images, deterministic by seed')
    .requiredOption('--out <dir>', 'output folder (created if missing; a dataset folder mmft wrote is replaced)')
    .option('--force', 'replace a non-empty --out folder that is not a dataset folder mmft wrote')
    .option('--n <count>', 'number of images', integer('--n'), 1000)
    .option('--domain <A|B>', 'visual domain: A plain, B textured', 'A')
    .option('--lang <en|zh|both>', 'language of the texts', 'en')
    .option('--seed <seed>', 'generator seed', integer('--seed'), 0)
    .option('--size <px>', 'image side in pixels', integer('--size'), 64)
    .option('--tasks <task...>', `tasks to write (${SHAPES_TASKS.join(', ')})`, [...SHAPES_TASKS])
    .action(async (options: ShapesOptions) => {
      const unknown = options.tasks.filter((t) => !(SHAPES_TASKS as readonly string[]).includes(t));
      if (unknown.length > 0)
        throw new MmftError(
          'E_INPUT',
          `--tasks: unknown task ${unknown.map((t) => `"${t}"`).join(', ')}; known: ${SHAPES_TASKS.join(', ')}`,
        );
      const parsed = shapesConfigSchema.safeParse({
        n: options.n,
        domain: options.domain,
        lang: options.lang,
        seed: options.seed,
        imageSize: options.size,
      });
      if (!parsed.success) {
        const flag: Record<string, string> = { imageSize: 'size' };
        const issues = parsed.error.issues.map((i) => `--${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
        throw new MmftError('E_INPUT', `mmft data shapes: ${issues.join('; ')}`, { hint: 'see mmft data shapes --help' });
      }
      const out = path.resolve(ctx.cwd, options.out);
      checkOutputFolder(out, { kind: 'dataset', flag: '--out', force: options.force });
      const progress = progressReporter(ctx, parsed.data.n);
      const started = Date.now();
      let result: Awaited<ReturnType<typeof writeShapesDataset>> | undefined;
      try {
        await writeFolder(
          out,
          async (staged) => {
            result = await writeShapesDataset(staged, { ...parsed.data, tasks: options.tasks as TaskKind[], onProgress: progress.tick });
          },
          { kind: 'dataset' },
        );
      } finally {
        progress.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      if (!result) return;
      ctx.print(`wrote ${result.images} images to ${path.join(out, 'images')} in ${seconds.toFixed(1)} s`);
      for (const task of options.tasks as TaskKind[])
        ctx.print(`  ${TASK_FILES[task].padEnd(18)} ${result.records[TASK_FILES[task]]} records`);
    });
}
