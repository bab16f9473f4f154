import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHfFolder, readModelType, TOKENIZER_FILES } from './read-folder';
import { tokenizerFromFiles } from './tokenizer-files';
import { wordLevelTokenizerFileMap } from './word-level';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mmft-hf-folder-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

describe('readHfFolder', () => {
  test('reads config.json, generation_config.json, preprocessor_config.json and the tokenizer files byte for byte', async () => {
    const { files } = wordLevelTokenizerFileMap(['red circle'], { modelMaxLength: 16 });
    const dir = await folder('full', {
      'config.json': JSON.stringify({ model_type: 'llava', text_config: { model_type: 'llama' } }),
      'generation_config.json': JSON.stringify({ max_new_tokens: 30, eos_token_id: 2 }),
      'preprocessor_config.json': JSON.stringify({ size: 8 }),
      'chat_template.jinja': '{{ messages }}',
      'notes.txt': 'not a tokenizer file',
      ...Object.fromEntries(files),
    });
    const read = await readHfFolder(dir);
    expect(read.modelType).toBe('llava');
    expect(read.config).toEqual({ model_type: 'llava', text_config: { model_type: 'llama' } });
    expect(read.generationConfig).toEqual({ max_new_tokens: 30, eos_token_id: 2 });
    expect(read.preprocessor).toEqual({ size: 8 });
    expect([...read.tokenizerFiles.keys()]).toEqual([
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
      'chat_template.jinja',
    ]);
    expect(Buffer.from(read.tokenizerFiles.get('tokenizer.json')!).toString('utf8')).toBe(files.get('tokenizer.json'));
    expect(TOKENIZER_FILES).toContain('vocab.json');
    const tok = tokenizerFromFiles(read.tokenizerFiles, { dir, maxPositions: 6 })!;
    expect(tok.modelMaxLength).toBe(6);
    expect(tok.chatTemplate).toBe('{{ messages }}');
    expect(tok.specialTokenIds.eos).toBe(tok.tokenToId('<|endoftext|>'));
    expect(tokenizerFromFiles(new Map())).toBeUndefined();
  });

  test('errors name the folder or file and say how to fix it', async () => {
    await expect(readHfFolder(join(tmp, 'absent'))).rejects.toThrow(/checkpoint folder .*absent does not exist/);
    const empty = await folder('empty', {});
    await expect(readHfFolder(empty, { modelName: 'CLIP' })).rejects.toThrow(
      `${join(empty, 'config.json')} is missing; a CLIP checkpoint folder needs config.json next to its weights`,
    );
    const broken = await folder('broken', { 'config.json': '{"model_type": "clip"', 'generation_config.json': '[]' });
    await expect(readHfFolder(broken)).rejects.toThrow(/config\.json is not valid JSON/);
    await writeFile(join(broken, 'config.json'), '{"model_type": "clip"}');
    await expect(readHfFolder(broken)).rejects.toThrow(`${join(broken, 'generation_config.json')} must hold a JSON object`);
    const untyped = await folder('untyped', { 'config.json': '{}' });
    await expect(readModelType(untyped)).rejects.toThrow(/has no "model_type"/);
    expect(await readModelType(await folder('typed', { 'config.json': '{"model_type": "clip"}' }))).toBe('clip');
  });
});
