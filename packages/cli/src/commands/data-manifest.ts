// `mmft data manifest <files...>`: write `<file>.manifest.json` beside each data file (content
// hash, size, records, the images it names, licence), or with --check compare each file with the
// manifest it has. Training and `mmft data validate` refuse a file that no longer matches.
import * as path from 'node:path';
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import { normaliseLicence, verifyDataManifest, writeDataManifest } from '@mmft/core/trust';
import type { CliContext } from '../context';

interface ManifestFlags {
  license?: string;
  images?: string;
  check?: boolean;
}

/** Runs the command; exported for tests. */
export async function runDataManifest(ctx: CliContext, files: readonly string[], flags: ManifestFlags): Promise<void> {
  let license: string | undefined;
  if (flags.license !== undefined) {
    const n = normaliseLicence(flags.license);
    if ('error' in n) throw new MmftError('E_INPUT', `--license: ${n.error}`);
    if (!n.known)
      ctx.print(
        `note: ${n.id} is not in the Hugging Face licence list; kept as given (use "other" and a LICENSE file if the Hub must show it)`,
      );
    license = n.id;
  }
  if (flags.check) {
    const changed: string[] = [];
    for (const f of files) {
      const file = path.resolve(ctx.cwd, f);
      const check = await verifyDataManifest(file);
      if (!check.ok) {
        changed.push(f);
        ctx.print(`${f}: changed since its manifest: ${check.changed.join('; ')}`);
      } else ctx.print(`${f}: ${check.manifest ? 'matches its manifest' : 'no manifest'}`);
    }
    if (changed.length > 0) {
      throw new MmftError(
        'E_DATA_CHANGED',
        `${changed.length} of ${files.length} data files no longer match their manifest: ${changed.join(', ')}`,
        {
          hint: 'rewrite the manifests with mmft data manifest <files> if the change is intended',
        },
      );
    }
    return;
  }
  for (const f of files) {
    const file = path.resolve(ctx.cwd, f);
    const { path: written, manifest } = await writeDataManifest(file, {
      ...(license !== undefined ? { license } : {}),
      ...(flags.images !== undefined ? { imagesDir: path.resolve(ctx.cwd, flags.images) } : {}),
    });
    const missing = manifest.images.missing ? `, ${manifest.images.missing} missing` : '';
    ctx.print(
      `${path.relative(ctx.cwd, written) || written}: ${manifest.records ?? '?'} records, ${manifest.images.count} images${missing}, sha256 ${manifest.sha256.slice(0, 12)}…, licence ${manifest.license ?? 'not set'}`,
    );
  }
}

/**
 * The `manifest` subcommand of `mmft data`.
 *
 * @example
 * mmft data manifest data/train.jsonl --license cc-by-4.0
 * mmft data manifest data/train.jsonl --check
 */
export function dataManifestCommand(ctx: CliContext): Command {
  return new Command('manifest')
    .description('write <file>.manifest.json (sha256, size, records, images, licence) beside data files, or --check them')
    .argument('<files...>', 'data files (JSONL, JSON, or any file: records are counted for JSONL and JSON arrays)')
    .option('--license <id>', 'licence of the data (Hugging Face / SPDX id, e.g. cc-by-4.0); kept from an existing manifest when absent')
    .option('--images <dir>', 'hash every file of this folder as the images (COCO/VQA layouts) instead of the paths the records name')
    .option('--check', 'compare each file with its manifest instead of writing; fails with E_DATA_CHANGED when one differs')
    .action((files: string[], flags: ManifestFlags) => runDataManifest(ctx, files, flags));
}
