// The inputs half of provenance.json (./provenance.ts): the data files a recipe's `data:` section
// names, hashed and checked against their manifests, and cheap fingerprints of images folders.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { listFilesRecursive, sha256Hex } from './hash';
import { buildDataManifest, manifestPathFor, readDataManifest, verifyDataManifest, type DataManifest } from './manifest';
import type { ProvenanceInput } from './provenance';

// Keys of dataset sections that name data files (data-jsonl config.ts: jsonl path, coco annotations, vqa questions/annotations).
const FILE_KEYS = ['path', 'annotations', 'questions'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isFile = (p: string) =>
  fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
const isDirectory = (p: string) =>
  fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** The data of a recipe's `data:` section as provenance inputs, checked against their manifests. */
export interface DataInputs {
  readonly inputs: ProvenanceInput[];
  readonly manifests: DataManifest[];
  /** Files that changed since their manifest, accepted (only with acceptDataChange). */
  readonly accepted: Array<{ file: string; changed: string[] }>;
}

/**
 * Hash every data file the recipe's data sections name (mixtures walked into their sources), and
 * compare each with its manifest. A changed file throws E_DATA_CHANGED unless `acceptDataChange`;
 * generated sources (no files) are recorded as their provider and settings (seed, n, ...).
 */
export async function collectDataInputs(data: unknown, baseDir: string, opts: { acceptDataChange?: boolean } = {}): Promise<DataInputs> {
  const inputs: ProvenanceInput[] = [];
  const manifests: DataManifest[] = [];
  const accepted: Array<{ file: string; changed: string[] }> = [];
  const refused: string[] = [];
  const visit = async (section: Record<string, unknown>, role: string): Promise<void> => {
    if (Array.isArray(section.sources)) {
      for (const [i, s] of section.sources.entries()) if (isObject(s)) await visit(s, `${role}.sources[${i}]`);
      return;
    }
    let files = 0;
    for (const key of FILE_KEYS) {
      const value = section[key];
      if (typeof value !== 'string') continue;
      files++;
      const file = path.resolve(baseDir, value);
      // A missing file is the dataset provider's to report, with its own message and hint.
      if (!(await isFile(file))) continue;
      const check = await verifyDataManifest(file);
      if (!check.ok) {
        if (opts.acceptDataChange) accepted.push({ file, changed: check.changed });
        else refused.push(`${file} (${role}.${key}): ${check.changed.join('; ')}`);
      }
      const manifest = check.manifest ?? (await readDataManifest(file));
      if (manifest) manifests.push(manifest);
      // A matching manifest already holds the hashes; hash again only what changed or has none.
      const now = check.ok && manifest ? manifest : await buildDataManifest(file, { license: manifest?.license ?? '', source: {} });
      inputs.push({
        role: `${role}.${key}`,
        path: file,
        sha256: now.sha256,
        bytes: now.bytes,
        records: now.records,
        ...(now.images.count > 0 ? { images: { count: now.images.count, sha256: now.images.sha256 } } : {}),
        ...(manifest?.license ? { license: manifest.license } : {}),
      });
    }
    if (typeof section.images === 'string') {
      files++;
      const dir = path.resolve(baseDir, section.images);
      if (await isDirectory(dir)) inputs.push({ role: `${role}.images`, path: dir, listing: await folderListing(dir) });
    }
    if (files === 0) {
      const { type, ...settings } = section;
      inputs.push({ role, generator: String(type), settings });
    }
  };
  if (isObject(data)) for (const [split, section] of Object.entries(data)) if (isObject(section)) await visit(section, `data.${split}`);
  if (refused.length > 0) {
    throw new MmftError('E_DATA_CHANGED', `data changed since its manifest was written:\n  ${refused.join('\n  ')}`, {
      hint: `pass --accept-data-change to train on it anyway (recorded in provenance.json), or rewrite the manifest with mmft data manifest <file> (${manifestPathFor('<file>')})`,
    });
  }
  return { inputs, manifests, accepted };
}

/**
 * A cheap fingerprint of a whole images folder (COCO, VQA v2 hold 80k+ images): the sha256 of its
 * sorted `<relative path>  <bytes>` lines. Content hashes of every image are what a data manifest
 * (`mmft data manifest --images DIR`) records once; hashing gigabytes at every run start would not do.
 */
export async function folderListing(dir: string): Promise<{ count: number; bytes: number; sha256: string }> {
  let names: string[];
  try {
    names = await listFilesRecursive(dir);
  } catch (cause) {
    throw new MmftError('E_INPUT', `images folder ${dir} cannot be read`, { cause, hint: 'check the images: path of the data section' });
  }
  let bytes = 0;
  const lines: string[] = [];
  for (const name of names) {
    const { size } = await fs.stat(path.join(dir, name));
    bytes += size;
    lines.push(`${name}  ${size}\n`);
  }
  return { count: names.length, bytes, sha256: sha256Hex(lines.join('')) };
}

/** Licensed sources of a data input list, for checkLicences and cardLicence (generators count as unlicensed only when files exist too). */
export function licensedSources(inputs: readonly ProvenanceInput[]): Array<{ name: string; license?: string }> {
  return inputs
    .filter((i) => i.sha256 !== undefined)
    .map((i) => ({ name: path.basename(i.path ?? i.role), ...(i.license ? { license: i.license } : {}) }));
}
