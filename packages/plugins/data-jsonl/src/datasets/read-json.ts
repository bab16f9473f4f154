// Reads one JSON document (COCO / VQA v2 annotation files) and checks it against a zod schema,
// naming the file and the JSON path of the first problem.
import * as fs from 'node:fs/promises';
import type { z } from 'zod';
import { MmftError } from '@mmft/core';

/**
 * Parse `file` as JSON and validate it; `what` names the layout in messages.
 *
 * @example
 * const coco = await readJsonFile('captions_val2014.json', cocoSchema, 'COCO captions annotations');
 */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    throw new MmftError('E_INPUT', `cannot read ${what} file ${file}: ${(cause as Error).message}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (cause) {
    throw new MmftError('E_DATA', `${file} is not valid JSON (${what}): ${(cause as Error).message}`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MmftError('E_DATA', `${file}: ${what} field "${issue.path.join('.')}" ${issue.message}`, {
      hint: `is this the right file? expected the ${what} layout`,
    });
  }
  return parsed.data;
}
