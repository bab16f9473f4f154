// The input file of batch `mmft generate`: JSONL rows checked field by field, image paths resolved
// from the file's folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import type { BatchMessage, BatchRow } from './spec';

const ROW_KEYS = new Set(['id', 'prompt', 'messages', 'images']);
const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * The rows of an input file, checked: a bad row is an E_INPUT error naming file:line and the field.
 *
 * @example
 * readBatchInput('prompts.jsonl'); // [{ id: 0, prompt: 'a red', images: [], line: 1 }, ...]
 */
export function readBatchInput(file: string): BatchRow[] {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new MmftError('E_INPUT', `--input ${file}: no such file`, { hint: 'give a JSONL file of {"prompt": "..."} rows' });
  }
  const dir = path.dirname(file);
  const rows: BatchRow[] = [];
  const lines = fs
    .readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === '') return;
    const fail = (field: string | undefined, message: string, hint: string): never => {
      throw new MmftError('E_INPUT', `${file}:${line}${field ? `: ${field}` : ''}: ${message}`, { hint });
    };
    const shape =
      'rows are {"id"?, "prompt": "...", "images"?: ["a.png"]} or {"id"?, "messages": [{"role": "user", "content": "..."}], "images"?}';
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      fail(undefined, `not JSON (${cause instanceof Error ? cause.message : String(cause)})`, 'write one JSON object per line');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(undefined, 'not a JSON object', shape);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!ROW_KEYS.has(key)) fail(key, 'unknown field', shape);
    if (record.id !== undefined && typeof record.id !== 'string' && typeof record.id !== 'number')
      fail('id', 'must be a string or a number', shape);
    if ((record.prompt === undefined) === (record.messages === undefined))
      fail('prompt', 'give exactly one of "prompt" and "messages"', shape);
    if (record.prompt !== undefined && typeof record.prompt !== 'string') fail('prompt', 'must be a string', shape);
    let messages: BatchMessage[] | undefined;
    if (record.messages !== undefined) {
      if (!Array.isArray(record.messages) || record.messages.length === 0)
        fail('messages', 'must be a non-empty list of {role, content}', shape);
      messages = (record.messages as unknown[]).map((m, k) => {
        const turn = m as Record<string, unknown>;
        if (typeof m !== 'object' || m === null || !ROLES.has(turn.role as string))
          fail(`messages[${k}].role`, 'must be "system", "user" or "assistant"', shape);
        if (typeof turn.content !== 'string') fail(`messages[${k}].content`, 'must be a string', shape);
        return { role: turn.role as BatchMessage['role'], content: turn.content as string };
      });
    }
    const images = record.images ?? [];
    if (!Array.isArray(images)) fail('images', 'must be a list of image paths', shape);
    const resolved = (images as unknown[]).map((image, k) => {
      if (typeof image !== 'string' || image === '') fail(`images[${k}]`, 'must be an image path', shape);
      const full = path.resolve(dir, image as string);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile())
        fail(`images[${k}]`, `no such file (${full})`, "image paths resolve from the input file's folder");
      return full;
    });
    rows.push({
      id: (record.id as string | number | undefined) ?? rows.length,
      ...(messages ? { messages } : { prompt: record.prompt as string }),
      images: resolved,
      line,
    });
  });
  if (rows.length === 0) throw new MmftError('E_INPUT', `--input ${file}: no rows`, { hint: 'write one JSON object per line' });
  return rows;
}
