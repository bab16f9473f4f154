// Reads one entry of a LLaMA-Factory dataset_info.json: the data file it names (relative to the
// dataset_info.json folder, as LLaMA-Factory's dataset_dir) and the columns and role tags its
// sharegpt records use. Defaults follow hiyouga/LLaMA-Factory src/llamafactory/data/parser.py
// (DatasetAttr: messages "conversations", tags from/value/human/gpt/system/observation/function_call);
// the entry layout is data/README.md there. A data file is named "dataset_info.json#<entry>".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import type { ShareGptLayout } from '../records/instruction';

/** A data file to read, and the layout its dataset_info.json entry gives (absent for plain files). */
export interface DataSource {
  readonly file: string;
  readonly layout?: ShareGptLayout;
}

/**
 * Split "dir/dataset_info.json#name" (or `file` with `name`) into the data file and its layout; any
 * other file is returned as is.
 *
 * @example
 * resolveDataSource('/data/dataset_info.json#mllm_demo') // { file: '/data/mllm_demo.json', layout: {...} }
 */
export function resolveDataSource(file: string, name?: string): DataSource {
  const hash = file.lastIndexOf('#');
  const infoFile = hash !== -1 && path.basename(file.slice(0, hash)) === 'dataset_info.json' ? file.slice(0, hash) : file;
  const entryName = name ?? (infoFile === file ? undefined : file.slice(hash + 1));
  if (entryName === undefined) {
    if (path.basename(file) !== 'dataset_info.json') return { file };
    throw new MmftError('E_INPUT', `${file} is a LLaMA-Factory dataset list; say which entry to read`, {
      hint: `name the entry: ${file}#<name> (or "name:" in the dataset section); entries: ${entryNames(file).join(', ')}`,
    });
  }
  const info = readInfo(infoFile);
  const entry = info[entryName] as Record<string, unknown> | undefined;
  const where = `${infoFile} entry "${entryName}"`;
  if (entry === undefined || entry === null || typeof entry !== 'object') {
    throw new MmftError('E_INPUT', `${infoFile} has no entry "${entryName}"`, { hint: `entries: ${Object.keys(info).join(', ')}` });
  }
  if (typeof entry.file_name !== 'string') {
    const remote = ['hf_hub_url', 'ms_hub_url', 'om_hub_url', 'script_url', 'cloud_file_name'].find((k) => k in entry);
    throw new MmftError('E_DATA', `${where} names no local "file_name"${remote ? ` (it reads "${remote}")` : ''}`, {
      hint: 'mmft reads local files only: download the data and set "file_name" to its path relative to dataset_info.json',
    });
  }
  const formatting = entry.formatting ?? 'alpaca';
  if (formatting !== 'sharegpt') {
    throw new MmftError('E_DATA', `${where} has "formatting": ${JSON.stringify(formatting)}; mmft reads sharegpt entries`, {
      hint: 'convert the records to sharegpt ("conversations" of {"from", "value"}) and set "formatting": "sharegpt"',
    });
  }
  if (entry.ranking === true) {
    throw new MmftError('E_DATA', `${where} is a preference (ranking) dataset; mmft's instruction task reads supervised conversations`, {
      hint: 'use an entry without "ranking": true',
    });
  }
  const dataFile = path.resolve(path.dirname(infoFile), entry.file_name);
  if (fs.existsSync(dataFile) && fs.statSync(dataFile).isDirectory()) {
    throw new MmftError('E_INPUT', `${where}: "file_name" ${entry.file_name} is a folder`, {
      hint: 'name one .json or .jsonl file per entry (mmft does not read whole folders)',
    });
  }
  const columns = strings(entry.columns, `${where} "columns"`);
  const tags = strings(entry.tags, `${where} "tags"`);
  const layout: ShareGptLayout = {
    messages: columns.messages ?? 'conversations',
    ...(columns.images === undefined ? {} : { images: columns.images }),
    ...(columns.system === undefined ? {} : { system: columns.system }),
    tags: {
      role: tags.role_tag ?? 'from',
      content: tags.content_tag ?? 'value',
      user: tags.user_tag ?? 'human',
      assistant: tags.assistant_tag ?? 'gpt',
      system: tags.system_tag ?? 'system',
      tools: [tags.observation_tag ?? 'observation', tags.function_tag ?? 'function_call'],
    },
  };
  return { file: dataFile, layout };
}

function readInfo(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new MmftError('E_INPUT', `cannot read ${file} as JSON: ${(cause as Error).message}`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MmftError('E_DATA', `${file} must be a JSON object of named entries`, { hint: 'see LLaMA-Factory data/README.md' });
  }
  return value as Record<string, unknown>;
}

function entryNames(file: string): string[] {
  try {
    return Object.keys(readInfo(file));
  } catch {
    return [];
  }
}

function strings(value: unknown, what: string): Record<string, string | undefined> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new MmftError('E_DATA', `${what} must be an object of strings`, {
      hint: 'e.g. "columns": {"messages": "messages", "images": "images"}',
    });
  }
  return value as Record<string, string>;
}
