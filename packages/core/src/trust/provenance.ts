// provenance.json: everything that produced a saved model or adapter, so a LoRA trained on a
// fine-tune of a base is traceable to the data files, seeds, recipe and code of every link. The
// base's own provenance.json is inlined (not referenced) so the chain survives copying one folder.
// The shape is mmft's own ("mmft-provenance/1"); docs/trust.md describes every field.
// Gathering the inputs lives in ./provenance-inputs.ts and the environment/git in ./provenance-env.ts;
// this file holds the record's shape, the model folders it describes, and reading/writing it.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { writeFileAtomic } from '../io';
import { hashFile, listFilesRecursive } from './hash';
import type { DataManifest } from './manifest';
import { gitState, mmftVersion } from './provenance-env';

export { environment, gitState, mmftVersion } from './provenance-env';
export { collectDataInputs, folderListing, licensedSources, type DataInputs } from './provenance-inputs';

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
