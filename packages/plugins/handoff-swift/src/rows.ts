// Rows for templates that add their own newline after an image tag: core writes LLaVA's "<image>\n" prefix
// (the layout LLaVA's data uses), and ms-swift's LlavaHfTemplate.replace_tag returns "<image>\n" for each tag
// (modelscope/ms-swift@3602360:swift/template/templates/llava.py), which would give "<image>\n\n".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';

interface Row {
  messages: { role: string; content: string }[];
  images?: string[];
}

/**
 * Writes `<name>.swift.jsonl` beside a bundle-relative JSONL with each "<image>\n" turned into "<image>"; returns
 * its bundle-relative path. The input file is not changed.
 *
 * @example
 * await rewriteImageTags(bundle, 'data/train.jsonl'); // 'data/train.swift.jsonl'
 */
export async function rewriteImageTags(bundleDir: string, file: string): Promise<string> {
  const source = path.join(bundleDir, file);
  const out = file.replace(/\.jsonl$/, '') + '.swift.jsonl';
  const lines = fs.readFileSync(source, 'utf8').split('\n');
  const rows = lines.map((line, i) => {
    if (line.trim() === '') return line;
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch (cause) {
      throw new MmftError('E_DATA', `${source}:${i + 1}: not a JSON row`, { cause, hint: 'rewrite the bundle with mmft handoff --force' });
    }
    return JSON.stringify({ ...row, messages: row.messages.map((m) => ({ ...m, content: m.content.replace(/<image>\n/g, '<image>') })) });
  });
  fs.writeFileSync(path.join(bundleDir, out), rows.join('\n'));
  return out;
}
