import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isExplicitPath, loadPluginExport } from './load-plugin';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-load-'));
}

describe('loadPluginExport', () => {
  test('explicit paths are recognised; bare names are packages', () => {
    expect(isExplicitPath('./x')).toBe(true);
    expect(isExplicitPath('../x')).toBe(true);
    expect(isExplicitPath('/abs/x')).toBe(true);
    expect(isExplicitPath('@scope/mmft-plugin-x')).toBe(false);
    expect(isExplicitPath('mmft-plugin-x')).toBe(false);
  });

  test('loads a package from the search folders and takes its default export', async () => {
    const dir = tempDir();
    const pkg = path.join(dir, 'node_modules', 'mmft-plugin-demo');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'mmft-plugin-demo', main: 'index.js' }));
    fs.writeFileSync(path.join(pkg, 'index.js'), 'exports.default = { marker: 42 };');
    const { value } = await loadPluginExport('mmft-plugin-demo', { searchFrom: [dir], baseDir: dir });
    expect(value).toEqual({ marker: 42 });
  });

  test('a missing package names where it looked and how to fix it', async () => {
    const dir = tempDir();
    await expect(loadPluginExport('mmft-plugin-absent', { searchFrom: [dir], baseDir: dir })).rejects.toMatchObject({
      code: 'E_PLUGIN_LOAD',
      message: expect.stringContaining(`cannot find plugin package "mmft-plugin-absent" (looked from ${dir})`),
    });
  });

  test('a module without a default export is a clear error', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'empty.js'), 'module.exports = {};');
    await expect(loadPluginExport('./empty.js', { searchFrom: [dir], baseDir: dir })).rejects.toMatchObject({
      code: 'E_PLUGIN_LOAD',
      message: expect.stringContaining('has no default export'),
    });
  });

  test('a module that throws while loading keeps the cause', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'broken.js'), 'throw new Error("boom")');
    const error = await loadPluginExport('./broken.js', { searchFrom: [dir], baseDir: dir }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'E_PLUGIN_LOAD' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  test('names that are neither packages nor paths are refused', async () => {
    await expect(loadPluginExport('Not A Package', { searchFrom: ['/'], baseDir: '/' })).rejects.toMatchObject({ code: 'E_PLUGIN_LOAD' });
  });
});
