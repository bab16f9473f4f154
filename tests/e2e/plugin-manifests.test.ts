// Every first-party plugin (and the third-party example) builds its manifest with definePlugin from
// its own package.json, so `mmft plugins` shows the version that is installed.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const folders = [
  ...fs.readdirSync(path.join(ROOT, 'packages/plugins')).map((name) => path.join(ROOT, 'packages/plugins', name)),
  path.join(ROOT, 'examples/third-party-plugin'),
].filter((dir) => fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src/index.ts')));

describe('plugin manifests', () => {
  test.each(folders.map((dir) => [path.relative(ROOT, dir), dir]))('%s: meta name and version come from package.json', (_name, dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
    const source = fs.readFileSync(path.join(dir, 'src/index.ts'), 'utf8');
    expect(source).toMatch(/definePlugin\(/);
    expect(source).not.toMatch(/version: '\d/);
    const plugin = (require(path.join(dir, 'dist/index.js')) as { default: { meta: { name: string; version: string } } }).default;
    expect(plugin.meta.name).toBe(pkg.name);
    expect(plugin.meta.version).toBe(pkg.version);
  });
});
