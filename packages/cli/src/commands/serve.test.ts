// `mmft serve`'s argument handling: versioned model folders, --model name=dir and --filter specs,
// and the errors a wrong argument gets. The server itself is tested in packages/serve and end to end
// in tests/e2e/serve-openai.test.ts.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createCliContext } from '../context';
import { chooseEngine, parseFilterSpec, parseModelSpec, runServe, versionedDir } from './serve';

const model = (dir: string) => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "llama"}');
};

describe('mmft serve arguments', () => {
  test('a folder of versions serves the highest vN with a config.json (v10 after v9), a model folder itself', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-'));
    for (const v of ['v1', 'v2', 'v9', 'v10']) model(path.join(root, 'runs', v));
    fs.mkdirSync(path.join(root, 'runs', 'v11')); // no config.json: not a version yet
    fs.mkdirSync(path.join(root, 'runs', 'latest'));
    expect(versionedDir(path.join(root, 'runs'))).toEqual({ dir: path.join(root, 'runs', 'v10'), version: 'v10' });
    model(path.join(root, 'plain'));
    expect(versionedDir(path.join(root, 'plain'))).toEqual({ dir: path.join(root, 'plain'), version: 'plain' });
    expect(() => versionedDir(path.join(root, 'runs', 'latest'))).toThrow(/no config.json, and no version folders v1\/, v2\//);
  });

  test('--model name=dir and --filter id:FILE[:mode]', () => {
    expect(parseModelSpec('shapes=runs/a=b')).toEqual({ name: 'shapes', dir: 'runs/a=b' });
    expect(() => parseModelSpec('runs/shapes')).toThrow(/--model runs\/shapes: write name=dir/);
    expect(() => parseModelSpec('a b=dir')).toThrow(/write name=dir/);
    expect(parseFilterSpec('blocklist:terms.txt')).toEqual({ id: 'blocklist', config: { file: 'terms.txt' } });
    expect(parseFilterSpec('blocklist:C:/x/terms.txt:redact')).toEqual({
      id: 'blocklist',
      config: { file: 'C:/x/terms.txt', mode: 'redact' },
    });
    expect(() => parseFilterSpec('terms.txt')).toThrow(/--filter terms.txt: write <filter>:FILE\[:redact\]/);
  });

  test('no model is an error before anything loads; an unknown filter names the known ones', async () => {
    const quiet = new PassThrough();
    const ctx = createCliContext({ stdout: quiet, stderr: quiet, builtins: ['@mmft/filter-blocklist'] });
    await expect(runServe(ctx, undefined, {})).rejects.toThrow(/mmft serve: give a model folder, or --model name=dir/);
    await expect(runServe(ctx, 'x', { filter: ['wordlist:terms.txt'] })).rejects.toThrow(/"wordlist".*blocklist/);
  });

  test('the engine: onnx for a folder from mmft export onnx, tfjs for a checkpoint, --engine wins', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-engine-'));
    model(path.join(root, 'ckpt'));
    model(path.join(root, 'export'));
    fs.writeFileSync(path.join(root, 'export', 'model.onnx'), '');
    expect(await chooseEngine(path.join(root, 'ckpt'))).toBe('tfjs');
    expect(await chooseEngine(path.join(root, 'export'))).toBe('onnx');
    expect(await chooseEngine(path.join(root, 'export'), 'tfjs')).toBe('tfjs');
    expect(await chooseEngine(path.join(root, 'ckpt'), 'onnx')).toBe('onnx');
  });

  test('--adapter with an ONNX export says to merge it at export', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-adapter-'));
    model(path.join(root, 'export'));
    fs.writeFileSync(path.join(root, 'export', 'model.onnx'), '');
    const quiet = new PassThrough();
    const ctx = createCliContext({ stdout: quiet, stderr: quiet, builtins: [] });
    await expect(runServe(ctx, path.join(root, 'export'), { adapter: 'lora' })).rejects.toThrow(
      /is an ONNX export, whose weights are fixed at export/,
    );
  });
});
