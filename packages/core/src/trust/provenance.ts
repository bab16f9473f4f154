// provenance.json: everything that produced a saved model or adapter, so a LoRA trained on a
// fine-tune of a base is traceable to the data files, seeds, recipe and code of every link. The
// base's own provenance.json is inlined (not referenced) so the chain survives copying one folder.
// The shape is mmft's own ("mmft-provenance/1"); docs/trust.md describes every field.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { writeFileAtomic } from '../io';
import { hashFile, listFilesRecursive, sha256Hex } from './hash';
import { buildDataManifest, manifestPathFor, readDataManifest, verifyDataManifest, type DataManifest } from './manifest';

export const PROVENANCE_SCHEMA = 'mmft-provenance/1';
export const PROVENANCE_FILE = 'provenance.json';

/** A git work tree's state, or why there is none. */
export type GitState = { readonly commit: string; readonly dirty: boolean } | { readonly none: string };

/** One input of a step: a data file, an images folder, or a generator (no files). */
export interface ProvenanceInput {
  /** Where the recipe names it: `data.train`, `data.train.sources[1]`, `adapter`, ... */
  readonly role: string;
  readonly path?: string;
  readonly sha256?: string;
  readonly bytes?: number;
  readonly records?: number | null;
  readonly images?: { readonly count: number; readonly sha256: string };
  /** An images folder: file count, total size and the sha256 of its `<path>  <bytes>` listing (folderListing). */
  readonly listing?: { readonly count: number; readonly bytes: number; readonly sha256: string };
  readonly license?: string;
  /** Generated data: the dataset provider and its settings (seed, n, ...). */
  readonly generator?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
}

/** A file of a model folder with its hash (null when too large to hash at every save). */
export interface ProvenanceFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string | null;
}

export interface ProvenanceBase {
  readonly path: string;
  readonly files: readonly ProvenanceFile[];
  /** The base folder's own provenance.json, inlined; null when it has none (a downloaded model). */
  readonly provenance: Provenance | null;
}

/** One thing done to produce the folder; `kind` says which. */
export interface ProvenanceStep {
  readonly kind: 'train' | 'merge' | 'quantize' | 'synth';
  readonly [key: string]: unknown;
}

export interface Provenance {
  readonly schema: typeof PROVENANCE_SCHEMA;
  readonly created: string;
  readonly mmft: { readonly version: string; readonly git: GitState };
  readonly recipe: { readonly path: string; readonly sha256: string; readonly git: GitState; readonly resolved: unknown } | null;
  readonly inputs: readonly ProvenanceInput[];
  readonly base: ProvenanceBase | null;
  readonly data_manifests: readonly DataManifest[];
  readonly synth?: Readonly<Record<string, unknown>>;
  readonly steps: readonly ProvenanceStep[];
  readonly environment: Readonly<Record<string, unknown>>;
  /** Data files used although they no longer matched their manifest (--accept-data-change). */
  readonly accepted_change?: ReadonlyArray<{ readonly file: string; readonly changed: readonly string[] }>;
  /** Licences of the training data and the incompatible-licence warnings (licence.ts). */
  readonly licences?: { readonly licenses: readonly string[]; readonly warnings: readonly string[] };
}

/** Files above this size are listed with their size only: hashing gigabytes at every checkpoint save costs minutes. */
export const HASH_LIMIT_BYTES = 512 * 1024 * 1024;

/** `git rev-parse HEAD` and `git status --porcelain` of the work tree holding `dir`. */
export function gitState(dir: string): GitState {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  try {
    const commit = git(['rev-parse', 'HEAD']).trim();
    // Only the recipe's own folder counts as dirty: other work in a big repository says nothing about this run.
    const dirty = git(['status', '--porcelain', '--', '.']).trim() !== '';
    return { commit, dirty };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { none: code === 'ENOENT' ? 'git is not installed' : `${dir} is not inside a git work tree with a commit` };
  }
}

let coreVersion: string | undefined;
/** The version of @mmft/core (all mmft packages share one version). */
export function mmftVersion(): string {
  if (coreVersion === undefined) {
    try {
      coreVersion = (require('../../package.json') as { version: string }).version;
    } catch {
      coreVersion = 'unknown';
    }
  }
  return coreVersion;
}

/** Node, platform, tfjs, the active engine and the mmft kernels it registers. */
export function environment(extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  let engine: string | null;
  let kernels: string[] = [];
  try {
    // tf.getBackend() initialises the best registered backend when none is set yet; with none registered it throws.
    engine = tf.getBackend() ?? null;
    if (engine)
      kernels = tf
        .getKernelsForBackend(engine)
        .map((k) => k.kernelName)
        .filter((n) => n.startsWith('Mmft'))
        .sort();
  } catch {
    engine = null;
  }
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    mmft: mmftVersion(),
    tfjs: tf.version_core,
    engine,
    kernels,
    ...extra,
  };
}

/** The small files that identify a model folder, hashed; weights hashed up to HASH_LIMIT_BYTES. */
export async function describeModelFolder(dir: string): Promise<ProvenanceFile[]> {
  let names: string[];
  try {
    names = await listFilesRecursive(dir);
  } catch (cause) {
    throw new MmftError('E_INPUT', `model folder ${dir} cannot be read for its provenance`, { cause });
  }
  const identifying = names.filter(
    (n) => !n.includes('/') && /\.(json|safetensors|bin|model|txt)$/.test(n) && n !== PROVENANCE_FILE && !n.startsWith('.'),
  );
  const out: ProvenanceFile[] = [];
  for (const name of identifying) {
    const file = path.join(dir, name);
    const { size } = await fs.stat(file);
    out.push({ name, bytes: size, sha256: size <= HASH_LIMIT_BYTES ? (await hashFile(file)).sha256 : null });
  }
  return out;
}

/** The provenance.json in `dir`, or null when there is none. */
export async function readProvenance(dir: string): Promise<Provenance | null> {
  const file = path.join(dir, PROVENANCE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  let value: Partial<Provenance>;
  try {
    value = JSON.parse(text) as Partial<Provenance>;
  } catch (cause) {
    throw new MmftError('E_INPUT', `${file} is not valid JSON`, { cause, hint: 'restore it from the run folder, or delete it' });
  }
  if (value.schema !== PROVENANCE_SCHEMA) {
    throw new MmftError('E_INPUT', `${file} is not an ${PROVENANCE_SCHEMA} file (schema ${JSON.stringify(value.schema)})`);
  }
  return value as Provenance;
}

/** A base model or adapter folder with its files and its own provenance inlined. */
export async function describeBase(dir: string): Promise<ProvenanceBase> {
  return { path: path.resolve(dir), files: await describeModelFolder(dir), provenance: await readProvenance(dir) };
}

/** Each link of the chain, newest first: this folder, its base, the base's base, ... */
export function provenanceChain(p: Provenance): Array<{ provenance: Provenance; base: ProvenanceBase | null }> {
  const out: Array<{ provenance: Provenance; base: ProvenanceBase | null }> = [];
  for (let cur: Provenance | null = p; cur; cur = cur.base?.provenance ?? null) out.push({ provenance: cur, base: cur.base });
  return out;
}

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

/** Recipe file, its hash and git state, and the resolved recipe. */
export async function describeRecipe(file: string, resolved: unknown): Promise<NonNullable<Provenance['recipe']>> {
  const abs = path.resolve(file);
  return { path: abs, sha256: (await hashFile(abs)).sha256, git: gitState(path.dirname(abs)), resolved };
}

let mmftGit: GitState | undefined;

/** Assemble a provenance record (created now unless given). */
export function buildProvenance(parts: Omit<Provenance, 'schema' | 'created' | 'mmft'> & { created?: string }): Provenance {
  const { created, ...rest } = parts;
  return {
    schema: PROVENANCE_SCHEMA,
    created: created ?? new Date().toISOString(),
    mmft: { version: mmftVersion(), git: (mmftGit ??= gitState(__dirname)) },
    ...rest,
  };
}

/** Write `dir/provenance.json`. */
export async function writeProvenance(dir: string, provenance: Provenance): Promise<string> {
  const file = path.join(dir, PROVENANCE_FILE);
  await writeFileAtomic(file, [Buffer.from(`${JSON.stringify(provenance, null, 2)}\n`)]);
  return file;
}
