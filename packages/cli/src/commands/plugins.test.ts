// Local plugins through recipes and the command line: explicit paths keep working, but code from
// outside the recipe's project is announced with its resolved path, non-package files and
// plugins that provide nothing are refused, and every load error names the recipe file:line.
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliForTest } from '../testing';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', '..', 'examples', 'third-party-plugin');

/** A project folder (package.json) with a recipe naming `plugins`, and a folder beside it. */
function project(plugins: string[]): { dir: string; recipe: string; outside: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-plugins-'));
  const dir = path.join(root, 'project');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(path.join(dir, 'recipes'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name": "project", "private": true}');
  const recipe = path.join(dir, 'recipes', 'r.yaml');
  fs.writeFileSync(recipe, ['name: r', 'plugins:', ...plugins.map((p) => `  - ${p}`), 'train: { type: none }', ''].join('\n'));
  return { dir, recipe, outside };
}

describe('plugins named by path', () => {
  test('a plugin inside the project loads silently; one outside prints its resolved path', async () => {
    const { dir, recipe } = project([EXAMPLE]);
    fs.cpSync(EXAMPLE, path.join(dir, 'local-plugin'), { recursive: true, filter: (src) => !src.includes('node_modules') });
    const inside = await runCliForTest(['plugins', '--recipe', recipe], { builtins: [] });
    expect(inside.code).toBe(0);
    expect(inside.stderr).toContain(`note: plugin "${EXAMPLE}" (r.yaml:3) loads ${EXAMPLE}, outside the project ${dir}`);
    fs.writeFileSync(recipe, 'plugins: [../local-plugin]\n');
    const local = await runCliForTest(['plugins', '--recipe', recipe], { builtins: [] });
    expect(local.stderr).toBe('');
    expect(local.stdout).toContain('exact-match');
  });

  test('a non-package file is refused before require reads it, naming the recipe line', async () => {
    const { recipe } = project(['./../../../../../../../../../../etc/passwd']);
    const run = await runCliForTest(['plugins', '--recipe', recipe], { builtins: [] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(r.yaml:3) is /etc/passwd, which is neither a package folder (package.json) nor a .js/.cjs/.mjs file');
  });

  test('a plugin that provides nothing is refused, naming the recipe line', async () => {
    const { dir, recipe } = project(['../empty.js']);
    fs.writeFileSync(
      path.join(dir, 'empty.js'),
      "module.exports = { meta: { name: 'empty', version: '1.0.0' }, provides: [], register() {} };",
    );
    const run = await runCliForTest(['plugins', '--recipe', recipe], { builtins: [] });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/plugin .*empty\.js: provides nothing.*\(r\.yaml:3\)/);
  });

  test('a missing plugin from a parent recipe names the parent file and line', async () => {
    const { dir } = project(['mmft-plugin-absent']);
    const child = path.join(dir, 'child.yaml');
    fs.writeFileSync(child, 'extends: ./recipes/r.yaml\n');
    const run = await runCliForTest(['train', child], { builtins: [] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot find plugin package "mmft-plugin-absent" (recipes/r.yaml:3)');
  });
});
