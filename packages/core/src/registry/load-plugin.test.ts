import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProjectRoot, isExplicitPath, loadPluginExport, loadPluginInto } from './load-plugin';
import { PluginRegistry } from './plugin-registry';

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

  test('a file that is not a JavaScript module is refused before require sees it', async () => {
    const dir = tempDir();
    const etc = path.join(dir, 'etc');
    fs.mkdirSync(etc);
    fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    const project = path.join(dir, 'a', 'b', 'c');
    fs.mkdirSync(project, { recursive: true });
    const error = await loadPluginExport('./../../../etc/passwd', {
      searchFrom: [project],
      baseDir: project,
      origin: 'recipe.yaml:3',
    }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'E_PLUGIN_LOAD' });
    expect((error as Error).message).toBe(
      `plugin "./../../../etc/passwd" (recipe.yaml:3) is ${path.join(etc, 'passwd')}, which is neither a package folder (package.json) nor a .js/.cjs/.mjs file`,
    );
    fs.writeFileSync(path.join(dir, 'data.json'), '{}');
    await expect(loadPluginExport('./data.json', { searchFrom: [dir], baseDir: dir })).rejects.toMatchObject({
      message: expect.stringContaining('neither a package folder'),
    });
  });

  test('a folder without package.json is not a package', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'plugin'));
    fs.writeFileSync(path.join(dir, 'plugin', 'index.js'), 'exports.default = { a: 1 };');
    await expect(loadPluginExport('./plugin', { searchFrom: [dir], baseDir: dir })).rejects.toMatchObject({
      message: expect.stringContaining('neither a package folder (package.json)'),
    });
  });

  test('a plugin from outside the project is announced with its resolved path; one inside is not', async () => {
    const dir = tempDir();
    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'local'), { recursive: true });
    fs.writeFileSync(path.join(project, 'package.json'), '{}');
    fs.writeFileSync(path.join(project, 'local', 'p.js'), 'exports.default = { a: 1 };');
    fs.writeFileSync(path.join(dir, 'outside.js'), 'exports.default = { a: 1 };');
    const notes: string[] = [];
    const lookup = {
      searchFrom: [project],
      baseDir: project,
      projectRoot: project,
      origin: 'r.yaml:2',
      notice: (m: string) => notes.push(m),
    };
    await loadPluginExport('./local/p.js', lookup);
    expect(notes).toEqual([]);
    await loadPluginExport('../outside.js', lookup);
    expect(notes).toEqual([`plugin "../outside.js" (r.yaml:2) loads ${path.join(dir, 'outside.js')}, outside the project ${project}`]);
  });

  test('the project of a folder is the nearest one with .git or package.json', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'repo', '.git'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'repo', 'pkg', 'recipes'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'repo', 'pkg', 'package.json'), '{}');
    expect(findProjectRoot(path.join(dir, 'repo', 'pkg', 'recipes'))).toBe(path.join(dir, 'repo'));
    fs.mkdirSync(path.join(dir, 'loose', 'x'), { recursive: true });
    expect(findProjectRoot(path.join(dir, 'loose', 'x'), dir)).toBe(path.join(dir, 'loose', 'x'));
  });

  test('loadPluginInto names where the plugin was listed in every error, registry errors included', async () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'empty-plugin.js'),
      "exports.default = { meta: { name: 'empty', version: '1.0.0' }, provides: [], register() {} };",
    );
    const registry = new PluginRegistry();
    await expect(
      loadPluginInto(registry, './empty-plugin.js', { searchFrom: [dir], baseDir: dir, origin: 'recipe.yaml:7' }),
    ).rejects.toMatchObject({
      code: 'E_PLUGIN_INVALID',
      message: expect.stringMatching(/provides nothing.*\(recipe\.yaml:7\)$/),
    });
    await expect(loadPluginInto(registry, './missing', { searchFrom: [dir], baseDir: dir, origin: 'recipe.yaml:8' })).rejects.toMatchObject(
      {
        code: 'E_PLUGIN_LOAD',
        message: expect.stringContaining('(recipe.yaml:8)'),
      },
    );
    expect(registry.plugins()).toEqual([]);
  });
});
