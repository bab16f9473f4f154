// Data manifests: `<data file>.manifest.json` beside a data file records what the file held when
// someone vouched for it (content hash, size, record count, the images it names, licence, how it
// was generated), so training and validation can refuse a file that changed since. The shape is
// mmft's own ("mmft-data-manifest/1"); the licence ids follow the Hugging Face card `license`
// field (licence.ts), which is also where a dataset card's licence would be read.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MmftError } from '../errors';
import { writeFileAtomic } from '../io';
import { digestFiles, hashFile, listFilesRecursive } from './hash';

export const DATA_MANIFEST_SCHEMA = 'mmft-data-manifest/1';

export interface DataManifestImages {
  /** Image files found (referenced by the records, or every file of `dir`). */
  readonly count: number;
  /** sha256 over the sorted `<path relative to the data file folder>  <sha256>` lines (hash.ts digestFiles). */
  readonly sha256: string;
  /** Referenced images that did not exist when the manifest was written. */
  readonly missing?: number;
  /** When the images are a whole folder (COCO, VQA v2) rather than paths in the records: that folder, relative to the data file. */
  readonly dir?: string;
}

export interface DataManifest {
  readonly schema: typeof DATA_MANIFEST_SCHEMA;
  /** The data file's name (the manifest sits beside it). */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  /** JSONL: non-blank lines; JSON: array length; null when the format has no record count mmft knows. */
  readonly records: number | null;
  readonly images: DataManifestImages;
  /** SPDX or Hugging Face licence id (`cc-by-4.0`, `apache-2.0`, `other`). */
  readonly license?: string;
  /** How the file was made when generated: generator, seed, n, ... */
  readonly source?: Readonly<Record<string, unknown>>;
  readonly created: string;
}

export interface WriteDataManifestOptions {
  /** Licence id; kept from an existing manifest when not given. */
  readonly license?: string;
  /** Generator, seed, ... of a synthesized file; kept from an existing manifest when not given. */
  readonly source?: Readonly<Record<string, unknown>>;
  /** Folder image paths resolve from (default: the data file's folder, as data-jsonl resolves them). */
  readonly imageRoot?: string;
  /** Hash every file of this folder as the images instead of the paths the records name. */
  readonly imagesDir?: string;
  /** Creation time (tests). */
  readonly now?: Date;
}

export type DataManifestCheck =
  | { readonly ok: true; readonly manifest?: DataManifest }
  | { readonly ok: false; readonly changed: string[]; readonly manifest: DataManifest };

/** Where the manifest of `file` lives. */
export function manifestPathFor(file: string): string {
  return `${file}.manifest.json`;
}

const IMAGE_KEYS = new Set(['image', 'images', 'image_path', 'image_url']);

/** Image path strings named anywhere in a record under image keys (LLaVA `image`, LLaMA-Factory/ms-swift `images`, OpenAI `image_url.url`). */
function collectImageValues(value: unknown, underImageKey: boolean, out: string[]): void {
  if (typeof value === 'string') {
    if (underImageKey) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectImageValues(v, underImageKey, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectImageValues(v, underImageKey || IMAGE_KEYS.has(k), out);
  }
}

/** Local file a reference points at, or undefined for data URLs and remote URLs (their bytes are in the data file or not ours). */
function localImagePath(ref: string, root: string): string | undefined {
  if (/^data:/i.test(ref) || /^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) {
    if (!/^file:\/\//i.test(ref)) return undefined;
    try {
      return fileURLToPath(ref);
    } catch {
      return undefined;
    }
  }
  return path.resolve(root, ref);
}

function parseRecords(file: string, text: string): { records: unknown[] | null } {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') {
    const records: unknown[] = [];
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        records.push(null); // still a record line; validate reports it
      }
    }
    return { records };
  }
  if (ext === '.json') {
    try {
      const parsed: unknown = JSON.parse(text);
      return { records: Array.isArray(parsed) ? parsed : null };
    } catch {
      return { records: null };
    }
  }
  return { records: null };
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Compute the manifest of `file` as it is now (nothing written). */
export async function buildDataManifest(file: string, opts: WriteDataManifestOptions = {}): Promise<DataManifest> {
  const abs = path.resolve(file);
  let stat;
  try {
    stat = await fs.stat(abs);
  } catch (cause) {
    throw new MmftError('E_INPUT', `data file ${file} cannot be read for its manifest`, { cause, hint: 'check the path' });
  }
  if (!stat.isFile()) throw new MmftError('E_INPUT', `${file} is not a file; a data manifest describes one data file`);
  const { sha256, bytes } = await hashFile(abs);
  const dataDir = path.dirname(abs);
  let images: DataManifestImages;
  const text = await fs.readFile(abs, 'utf8');
  const parsed = parseRecords(abs, text);
  const records = parsed.records ? parsed.records.length : null;
  if (opts.imagesDir !== undefined) {
    const dir = path.resolve(opts.imagesDir);
    const digest = await digestFiles(dir, await listFilesRecursive(dir));
    images = { ...digest, dir: path.relative(dataDir, dir).split(path.sep).join('/') || '.' };
  } else {
    const root = path.resolve(opts.imageRoot ?? dataDir);
    const refs: string[] = [];
    for (const r of parsed.records ?? []) collectImageValues(r, false, refs);
    const found: string[] = [];
    let missing = 0;
    for (const p of new Set(refs.map((r) => localImagePath(r, root)).filter((p): p is string => p !== undefined))) {
      if (await exists(p)) found.push(p);
      else missing++;
    }
    // Paths relative to the data file folder, so a moved dataset folder keeps its digest.
    const digest = await digestFiles(dataDir, found);
    images = missing > 0 ? { ...digest, missing } : digest;
  }
  let license = opts.license;
  let source = opts.source;
  if (license === undefined || source === undefined) {
    const old = await readDataManifest(abs).catch(() => undefined);
    license ??= old?.license;
    source ??= old?.source;
  }
  return {
    schema: DATA_MANIFEST_SCHEMA,
    file: path.basename(abs),
    sha256,
    bytes,
    records,
    images,
    ...(license !== undefined ? { license } : {}),
    ...(source !== undefined ? { source } : {}),
    created: (opts.now ?? new Date()).toISOString(),
  };
}

/**
 * Write `<file>.manifest.json` for `file` as it is now and return it. A licence or source already
 * in an old manifest is kept unless given.
 */
export async function writeDataManifest(
  file: string,
  opts: WriteDataManifestOptions = {},
): Promise<{ path: string; manifest: DataManifest }> {
  const manifest = await buildDataManifest(file, opts);
  const out = manifestPathFor(path.resolve(file));
  await writeFileAtomic(out, [Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]);
  return { path: out, manifest };
}

/** The manifest beside `file`, or undefined when there is none. Refuses a manifest that is not one. */
export async function readDataManifest(file: string): Promise<DataManifest | undefined> {
  const at = manifestPathFor(path.resolve(file));
  let text: string;
  try {
    text = await fs.readFile(at, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new MmftError('E_DATA', `${at} is not valid JSON`, { cause, hint: `rewrite it with mmft data manifest ${file}` });
  }
  const m = parsed as Partial<DataManifest> | null;
  if (!m || m.schema !== DATA_MANIFEST_SCHEMA || typeof m.sha256 !== 'string' || typeof m.bytes !== 'number' || !m.images) {
    throw new MmftError('E_DATA', `${at} is not an ${DATA_MANIFEST_SCHEMA} manifest (schema, sha256, bytes or images missing)`, {
      hint: `rewrite it with mmft data manifest ${file}`,
    });
  }
  return m as DataManifest;
}

const short = (h: string) => h.slice(0, 12);

/**
 * Compare `file` with its manifest. No manifest: ok (nothing was vouched for). Otherwise every
 * difference is one `changed` entry naming the field, the old and the new value.
 */
export async function verifyDataManifest(file: string): Promise<DataManifestCheck> {
  const manifest = await readDataManifest(file);
  if (!manifest) return { ok: true };
  const dataDir = path.dirname(path.resolve(file));
  const now = await buildDataManifest(file, {
    ...(manifest.images.dir !== undefined ? { imagesDir: path.resolve(dataDir, manifest.images.dir) } : {}),
    license: manifest.license ?? '',
    source: manifest.source ?? {},
  });
  const changed: string[] = [];
  if (now.sha256 !== manifest.sha256) changed.push(`sha256: ${short(manifest.sha256)}… → ${short(now.sha256)}…`);
  if (now.bytes !== manifest.bytes) changed.push(`bytes: ${manifest.bytes} → ${now.bytes}`);
  if ((manifest.records ?? null) !== now.records) changed.push(`records: ${manifest.records ?? 'unknown'} → ${now.records ?? 'unknown'}`);
  if (now.images.count !== manifest.images.count) changed.push(`images.count: ${manifest.images.count} → ${now.images.count}`);
  if (now.images.sha256 !== manifest.images.sha256) {
    changed.push(
      `images.sha256: ${short(manifest.images.sha256)}… → ${short(now.images.sha256)}… (an image was added, removed, renamed or edited)`,
    );
  }
  if ((now.images.missing ?? 0) > (manifest.images.missing ?? 0)) {
    changed.push(`images.missing: ${manifest.images.missing ?? 0} → ${now.images.missing}`);
  }
  return changed.length === 0 ? { ok: true, manifest } : { ok: false, changed, manifest };
}

/** Throw E_DATA_CHANGED when `file` no longer matches its manifest, unless `accept`; returns what changed (empty when nothing did). */
export async function checkDataManifest(file: string, opts: { accept?: boolean } = {}): Promise<string[]> {
  const check = await verifyDataManifest(file);
  if (check.ok) return [];
  if (!opts.accept) {
    throw new MmftError('E_DATA_CHANGED', `data file ${file} no longer matches ${manifestPathFor(file)}: ${check.changed.join('; ')}`, {
      hint: `if the change is intended, pass --accept-data-change (recorded in provenance.json) or rewrite the manifest with mmft data manifest ${file}`,
    });
  }
  return check.changed;
}
